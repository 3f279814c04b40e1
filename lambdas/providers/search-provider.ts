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

export interface SearchProvider {
  readonly name: string;
  search(query: string, options: { maxResults: number }): Promise<SearchResponse>;
}
