/** What the research core needs from a web search provider. One adapter per provider implements it. */
import type { SearchDepth } from '../core/contracts';

export interface SearchHit {
  url: string;
  title: string;
  content: string;
  /** The provider's relevance score, 0..1. */
  score: number;
}

export interface SearchResponse {
  hits: SearchHit[];
  /**
   * What the query cost, in search credits (lambdas/core/pricing.ts): Tavily 1 basic, 2 advanced; Gemini its
   * grounding fee and tokens converted (about 7 for 2.5 Flash); 0 from the cache.
   */
  credits: number;
}

export interface SearchOptions {
  maxResults: number;
  /** Tavily's search depth; a provider without depths ignores it. Basic unless said. */
  depth?: SearchDepth;
}

export interface SearchProvider {
  readonly name: string;
  search(query: string, options: SearchOptions): Promise<SearchResponse>;
}
