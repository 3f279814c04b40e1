/**
 * What every provider's results go through before the LLM sees them: one entry per page, however many queries
 * (or providers) found it, and no more text than the notes need.
 */
import type { SearchHit } from '../providers/search-provider';

/** Query parameters that say who sent the reader, not which page it is. */
const TRACKING_PARAM = /^(utm_[a-z0-9_]+|gclid|gbraid|wbraid|fbclid|msclkid|dclid|yclid|igshid|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|ref_src)$/i;

/**
 * The identity of a page, for deduplication: host lower-cased without `www.`, no scheme, fragment, trailing slash
 * or tracking parameters, the remaining parameters sorted. It is a key, not a URL to fetch: the hits keep theirs.
 * Something that does not parse as a URL is its own key.
 */
export function urlKey(url: string): string {
  const trimmed = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return trimmed;
  }
  // file: and other non-web URLs (the local corpus) have no host to fold; the fragment still goes.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    parsed.hash = '';
    return parsed.href;
  }
  const host = parsed.hostname.replace(/^www\./, '') + (parsed.port ? `:${parsed.port}` : '');
  const path = parsed.pathname.replace(/\/+$/, '');
  const params = [...parsed.searchParams]
    .filter(([name]) => !TRACKING_PARAM.test(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = params.length ? `?${new URLSearchParams(params).toString()}` : '';
  return `${host}${path}${query}`;
}

/**
 * One hit per page, in the order pages were first found. Of two hits for the same page the better-scored one is
 * kept, and on a tie the one with more text (a Tavily page body beats a Gemini snippet of it).
 */
export function dedupeHits(hits: readonly SearchHit[]): SearchHit[] {
  const byKey = new Map<string, SearchHit>();
  for (const hit of hits) {
    const key = urlKey(hit.url);
    const seen = byKey.get(key);
    if (!seen || hit.score > seen.score || (hit.score === seen.score && hit.content.length > seen.content.length)) {
      // Map.set on an existing key keeps its first position.
      byKey.set(key, hit);
    }
  }
  return [...byKey.values()];
}

export interface ContentBudget {
  /** Characters of one result's content at most. */
  perResultChars: number;
  /** Characters of all results' content together at most. */
  totalChars: number;
}

/** A result cut shorter than this is more likely to mislead than to inform: the budget stops before it. */
const MIN_USEFUL_CHARS = 200;

/**
 * Cuts text to at most `limit` characters at a line end (even at the cost of a quarter of the budget), or failing
 * that at a space: a fact cut mid-line ("Total funding: $62" of "$62 million") is a wrong fact, not a shorter one.
 */
export function cutText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = text.slice(0, limit);
  const lineEnd = head.lastIndexOf('\n');
  if (lineEnd >= limit / 4) return head.slice(0, lineEnd).trimEnd();
  const space = head.lastIndexOf(' ');
  return (space >= limit / 2 ? head.slice(0, space) : head).trimEnd();
}

/**
 * Keeps results, in the order given (best first), until the budget is spent: each is cut to `perResultChars`,
 * and the last one to what is left of `totalChars`, unless that is too little to be worth reading.
 */
export function trimToBudget<T extends { content: string }>(results: readonly T[], budget: ContentBudget): T[] {
  const kept: T[] = [];
  let left = budget.totalChars;
  for (const result of results) {
    const limit = Math.min(budget.perResultChars, left);
    if (limit < Math.min(MIN_USEFUL_CHARS, result.content.length) || limit <= 0) break;
    const content = cutText(result.content, limit);
    kept.push({ ...result, content });
    left -= content.length;
  }
  return kept;
}
