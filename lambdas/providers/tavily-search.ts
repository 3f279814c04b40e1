/**
 * Tavily search over its HTTP API (POST /search). Not through @tavily/core: the SDK throws plain Errors that drop the
 * HTTP status and every header, so a 429's `retry-after` could not reach the pacing (lambdas/providers/pacing.ts).
 */
import { ProviderError, errorNameForStatus, retryAfterMs } from './provider-error';
import type { SearchProvider, SearchResponse } from './search-provider';
import { creditsPerSearch } from '../core/tiers';

export const TAVILY_API_URL = 'https://api.tavily.com';

export interface TavilyOptions {
  apiKey: string;
  /** Set to talk to a stand-in (or a proxy). */
  baseUrl?: string;
  timeoutSeconds?: number;
}

interface TavilyResult {
  url: string;
  title: string;
  content: string;
  score: number;
}

/** Tavily's error bodies are `{detail: {error}}`; anything else is shown as it came. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const error = (JSON.parse(text) as { detail?: { error?: unknown } }).detail?.error;
    if (typeof error === 'string' && error) return `HTTP ${response.status}: ${error}`;
  } catch {
    // not JSON: the text itself says most
  }
  return `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

export function createTavilySearch(options: TavilyOptions): SearchProvider {
  const endpoint = `${(options.baseUrl ?? TAVILY_API_URL).replace(/\/+$/, '')}/search`;
  return {
    name: 'tavily',
    async search(query, { maxResults, depth = 'basic' }): Promise<SearchResponse> {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
          body: JSON.stringify({ query, max_results: maxResults, search_depth: depth }),
          signal: AbortSignal.timeout((options.timeoutSeconds ?? 20) * 1000),
        });
      } catch (error) {
        // Timeouts, refused and reset connections: the provider may answer next time.
        throw new ProviderError('ProviderUnavailable', 'tavily', (error as Error).message);
      }
      if (!response.ok) {
        const status = response.status;
        // 432/433 are Tavily's plan and usage limits: no retry helps, like any other 4xx but 408 and 429.
        throw new ProviderError(errorNameForStatus(status), 'tavily', await errorMessage(response), retryAfterMs(response.headers));
      }
      let body: { results?: TavilyResult[] };
      try {
        body = (await response.json()) as { results?: TavilyResult[] };
      } catch (error) {
        throw new ProviderError('ProviderUnavailable', 'tavily', `unreadable answer: ${(error as Error).message}`);
      }
      return {
        hits: (body.results ?? []).map((r) => ({ url: r.url, title: r.title, content: r.content, score: r.score })),
        credits: creditsPerSearch(depth),
      };
    },
  };
}
