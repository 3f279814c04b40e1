/** What the research core needs from a web search provider. One adapter per provider implements it. */
export interface SearchHit {
  url: string;
  title: string;
  content: string;
  /** The provider's relevance score, 0..1. */
  score: number;
}

export interface SearchResponse {
  hits: SearchHit[];
  /** Billing units the provider charged for this query (Tavily: 1 basic, 2 advanced). */
  credits: number;
}

export interface SearchOptions {
  maxResults: number;
  /** Tavily's search depth; a provider without depths ignores it. Basic unless said. */
  depth?: 'basic' | 'advanced';
}

export interface SearchProvider {
  readonly name: string;
  search(query: string, options: SearchOptions): Promise<SearchResponse>;
}
