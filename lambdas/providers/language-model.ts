/** What the core needs from an LLM: free text (research notes) and a JSON object of a given schema (extraction). */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface WriteRequest {
  system: string;
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
