/**
 * Google search through Gemini with Google Search grounding (@google/genai). The model runs the searches; its
 * grounding metadata names the pages (groundingChunks) and the sentences of its answer each page supports
 * (groundingSupports). A page's hit is those sentences: what the model read there, in its words.
 */
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { DEFAULT_GEMINI_MODEL, geminiSearchCredits, type GeminiSearchUsage } from '../core/pricing';
import { ProviderError, errorNameForStatus } from './provider-error';
import type { SearchHit, SearchProvider, SearchResponse } from './search-provider';

export interface GoogleSearchOptions {
  apiKey: string;
  model?: string;
  /** Set to talk to a stand-in (or a proxy): `httpOptions.baseUrl` of the SDK. */
  baseUrl?: string;
  /** One attempt's deadline. */
  timeoutMs?: number;
  /**
   * The SDK's own retries of 5xx answers (attempts including the first; 1 = none, the default). A 429 is never
   * retried here: a hybrid search sends the query to the other provider, and the state machine waits out a throttle.
   */
  retry?: { attempts: number; initialDelaySeconds: number };
  /** Resolving a grounding redirect (below) gives up after this long and keeps the redirect. */
  redirectTimeoutMs?: number;
}

/**
 * The Gemini API hands out each page as a redirect through its own host (`…/grounding-api-redirect/<token>`), with
 * the site's domain as the title. Followed once, the redirect names the page itself, which is what evidence should
 * cite and what lets a hybrid search see that Tavily found the same page.
 */
const GROUNDING_REDIRECT_PATH = '/grounding-api-redirect/';

export function searchPrompt(query: string, maxResults: number): string {
  return [
    'Search the web for the query below and report what the pages you find say about it.',
    `Use at most ${maxResults} pages. Keep each page's facts in its own words, one fact per line, and do not add`,
    'anything the pages do not say.',
    '',
    `Query: ${query}`,
  ].join('\n');
}

const googleStatusName = (body: unknown) => (body as { error?: { status?: string } } | undefined)?.error?.status;

/** "17s", "0.250s" (a protobuf Duration as JSON) → seconds. */
function durationSeconds(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * The SDK's ApiError carries the status and, as its message, the error body as JSON:
 * `{error:{code, message, status, details}}`, a throttle's details holding RetryInfo's `retryDelay`.
 */
export function toProviderError(error: unknown, timeoutMs?: number): ProviderError {
  if (error instanceof ApiError) {
    let body: { error?: { message?: string; status?: string; details?: { '@type'?: string; retryDelay?: string }[] } } | undefined;
    try {
      body = JSON.parse(error.message);
    } catch {
      body = undefined;
    }
    const status = googleStatusName(body);
    const name = status === 'RESOURCE_EXHAUSTED' ? 'ProviderThrottled' : errorNameForStatus(error.status);
    const retryInfo = body?.error?.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'));
    const retryAfterSeconds = durationSeconds(retryInfo?.retryDelay);
    const message = `${error.status}${status ? ` ${status}` : ''}: ${body?.error?.message ?? error.message}`;
    return new ProviderError(name, 'google', message, retryAfterSeconds === undefined ? undefined : retryAfterSeconds * 1000);
  }
  const err = error as Error;
  // The SDK aborts an attempt at its timeout; a cut or garbled body surfaces as a SyntaxError. Both may pass.
  if (err?.name === 'AbortError') return new ProviderError('ProviderUnavailable', 'google', `no answer within ${timeoutMs} ms`);
  if (err instanceof SyntaxError) return new ProviderError('ProviderUnavailable', 'google', `unreadable answer (${err.message})`);
  return new ProviderError('ProviderUnavailable', 'google', err?.message ?? String(error));
}

/** One hit per cited page, in the order the model listed them, with the answer's sentences that page supports. */
export function groundedHits(response: GenerateContentResponse, maxResults: number): SearchHit[] {
  const metadata = response.candidates?.[0]?.groundingMetadata;
  const chunks = metadata?.groundingChunks ?? [];
  const supported = chunks.map(() => ({ segments: [] as string[], confidence: 0 }));
  for (const support of metadata?.groundingSupports ?? []) {
    const text = support.segment?.text?.trim();
    if (!text) continue;
    (support.groundingChunkIndices ?? []).forEach((index, j) => {
      const page = supported[index];
      if (!page) return;
      if (!page.segments.includes(text)) page.segments.push(text);
      page.confidence = Math.max(page.confidence, support.confidenceScores?.[j] ?? 0);
    });
  }
  const hits: SearchHit[] = [];
  chunks.forEach((chunk, i) => {
    const uri = chunk.web?.uri;
    const page = supported[i]!;
    // A page no sentence leans on gave the model nothing we can read; other kinds of chunk are not web pages.
    if (!uri || page.segments.length === 0) return;
    hits.push({
      url: uri,
      title: chunk.web?.title || hostOf(uri),
      content: page.segments.join('\n'),
      // Confidence when the model gives it (older models did); otherwise the model's own order.
      score: page.confidence || Math.round((1 - i / (chunks.length + 1)) * 10_000) / 10_000,
    });
  });
  return hits.slice(0, maxResults);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

export function searchUsage(response: GenerateContentResponse): GeminiSearchUsage {
  const metadata = response.candidates?.[0]?.groundingMetadata;
  const queries = metadata?.webSearchQueries?.length ?? 0;
  const usage = response.usageMetadata;
  return {
    // Pages without the queries that found them still mean the model searched.
    searchQueries: queries || ((metadata?.groundingChunks?.length ?? 0) > 0 ? 1 : 0),
    // The search results fed to the model count as input (toolUsePrompt); thinking is billed as output.
    inputTokens: (usage?.promptTokenCount ?? 0) + (usage?.toolUsePromptTokenCount ?? 0),
    outputTokens: (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
  };
}

/** The page behind a grounding redirect, or the redirect itself when it cannot be followed in time. */
async function resolveRedirect(uri: string, timeoutMs: number): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return uri;
  }
  if (!parsed.pathname.startsWith(GROUNDING_REDIRECT_PATH)) return uri;
  try {
    const response = await fetch(uri, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const location = response.headers.get('location');
    return response.status >= 300 && response.status < 400 && location ? new URL(location, uri).href : uri;
  } catch {
    return uri;
  }
}

export function createGoogleSearch(options: GoogleSearchOptions): SearchProvider {
  const model = options.model ?? DEFAULT_GEMINI_MODEL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempts = options.retry?.attempts ?? 1;
  const client = new GoogleGenAI({
    apiKey: options.apiKey,
    httpOptions: {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      timeout: timeoutMs,
      ...(attempts > 1
        ? { retryOptions: { attempts, initialDelay: options.retry!.initialDelaySeconds, httpStatusCodes: [500, 502, 503, 504] } }
        : {}),
    },
  });
  return {
    name: 'google',
    async search(query, { maxResults }): Promise<SearchResponse> {
      let response: GenerateContentResponse;
      try {
        response = await client.models.generateContent({
          model,
          contents: searchPrompt(query, maxResults),
          config: {
            tools: [{ googleSearch: {} }],
            // Flash models can skip thinking, which is billed as output and adds nothing to a search.
            ...(model.startsWith('gemini-2.5-flash') ? { thinkingConfig: { thinkingBudget: 0 } } : {}),
          },
        });
      } catch (error) {
        throw toProviderError(error, timeoutMs);
      }
      const hits = await Promise.all(
        groundedHits(response, maxResults).map(async (hit) => ({ ...hit, url: await resolveRedirect(hit.url, options.redirectTimeoutMs ?? 3_000) })),
      );
      return { hits, credits: geminiSearchCredits(model, searchUsage(response)) };
    },
  };
}
