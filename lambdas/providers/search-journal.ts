/**
 * The searches one research step has already had answered, so that a retry of the step (after its LLM call, a later
 * search or the function itself failed) does not send them again. Kept per step (job, company, iteration), apart from
 * the search cache: it holds even when the cache is off, and it lives only as long as a step can be retried.
 *
 * A replayed answer carries the credits it was billed when it was sent: the attempt that failed never reported them,
 * so counting them on the attempt that succeeds counts every billed search exactly once.
 */
import { createHash } from 'node:crypto';
import type { SearchProvider, SearchResponse } from './search-provider';

export interface SearchJournal {
  get(key: string): Promise<SearchResponse | undefined>;
  put(key: string, response: SearchResponse, ttlSeconds: number): Promise<void>;
}

export interface ResearchStep {
  jobId: string;
  index: number;
  iteration: number;
}

export function searchJournalKey(step: ResearchStep, provider: string, query: string, maxResults: number): string {
  const digest = createHash('sha256')
    .update([step.jobId, step.index, step.iteration, provider, maxResults, query.trim()].join('\n'))
    .digest('hex');
  // A prefix of its own: the journal shares the search cache's table.
  return `journal#${digest}`;
}

/** Long enough for the state machine's retries of a step (minutes) and a redrive soon after; short enough to stay small. */
export const SEARCH_JOURNAL_TTL_SECONDS = 24 * 3_600;

export function withSearchJournal(
  provider: SearchProvider,
  journal: SearchJournal,
  step: ResearchStep,
  options: { ttlSeconds?: number; onJournalError?: (error: unknown) => void } = {},
): SearchProvider {
  // Like the cache: a broken journal costs only repeated searches, never the research.
  const guarded = async <T>(work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      options.onJournalError?.(error);
      return fallback;
    }
  };
  return {
    name: provider.name,
    async search(query, searchOptions) {
      const key = searchJournalKey(step, provider.name, query, searchOptions.maxResults);
      const replayed = await guarded(() => journal.get(key), undefined);
      if (replayed) return replayed;
      const response = await provider.search(query, searchOptions);
      await guarded(() => journal.put(key, response, options.ttlSeconds ?? SEARCH_JOURNAL_TTL_SECONDS), undefined);
      return response;
    },
  };
}
