/** What the core needs from an LLM: free text (research notes) and a JSON object of a given schema (extraction). */
export interface TokenUsage {
  /** The model that answered: tokens are priced by it. */
  model: string;
  /** Input tokens billed at the full rate: those neither written to nor read from the prompt cache. */
  input_tokens: number;
  output_tokens: number;
  /** Input tokens written to the prompt cache (billed at 1.25× input). */
  cache_write_tokens?: number;
  /** Input tokens read from the prompt cache (billed at 0.1× input). */
  cache_read_tokens?: number;
}

export interface WriteRequest {
  /**
   * The part every company of a job shares (instructions, and the fields wanted): sent as a cached prefix, so the
   * provider reads it from its cache after the first call when it is long enough to be cached.
   */
  system: string;
  /** The company's own part. */
  prompt: string;
  maxTokens: number;
}

export interface StructuredRequest extends WriteRequest {
  toolName: string;
  toolDescription: string;
  inputSchema: Record<string, unknown>;
  /**
   * `json_schema`: structured outputs (the answer is guaranteed to parse against `inputSchema`, which must keep to
   * their subset of JSON Schema); `tool` (the default): a forced call of the named tool, for any JSON Schema.
   */
  format?: 'json_schema' | 'tool';
}

export interface LanguageModel {
  readonly model: string;
  write(request: WriteRequest): Promise<{ text: string; usage: TokenUsage }>;
  structured(request: StructuredRequest): Promise<{ value: unknown; usage: TokenUsage }>;
}
