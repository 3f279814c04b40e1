/**
 * The research step's search journal: a retry of the step replays the searches already answered, billed once, and
 * the research core lets every search finish before it reports a failure, so the answers that came are kept.
 */
import { describe, expect, it } from 'vitest';
import { zeroUsage, type ResearchInput } from '../../lambdas/core/contracts';
import { research } from '../../lambdas/core/research';
import type { LanguageModel } from '../../lambdas/providers/language-model';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { searchJournalKey, withSearchJournal, type ResearchStep, type SearchJournal } from '../../lambdas/providers/search-journal';
import type { SearchProvider, SearchResponse } from '../../lambdas/providers/search-provider';

const step: ResearchStep = { jobId: 'job-1', index: 4, iteration: 1 };
const input: ResearchInput = {
  company_name: 'Kestrel Looms',
  extraction_schema: { type: 'object', properties: { founded: { type: 'integer' }, headquarters: { type: 'string' } } },
  search_provider: 'tavily',
  max_queries: 3,
  follow_up_queries: [],
  search_depth: 'basic',
  model: 'small',
  read_site: false,
  usage: zeroUsage(),
};
const hit = { url: 'https://kestrel-looms.example', title: 'Kestrel Looms', content: 'Kestrel Looms was founded in 1998.', score: 0.9 };

function memoryJournal(): SearchJournal & { items: Map<string, SearchResponse> } {
  const items = new Map<string, SearchResponse>();
  return {
    items,
    get: async (key) => items.get(key),
    put: async (key, response) => void items.set(key, response),
  };
}

/** Answers with two credits a query (an advanced search), failing the queries named in `failing` once each. */
function provider(failing: string[] = []) {
  const sent: string[] = [];
  const search: SearchProvider = {
    name: 'tavily',
    async search(query) {
      sent.push(query);
      // The failing query answers last, so the others are still under way when it fails.
      if (failing.some((f) => query.includes(f))) {
        failing.splice(failing.findIndex((f) => query.includes(f)), 1);
        throw new ProviderError('ProviderUnavailable', 'tavily', 'HTTP 503');
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      return { hits: [hit], credits: 2 };
    },
  };
  return { search, sent };
}

function model(failures = 0): LanguageModel {
  return {
    model: 'fake',
    async write() {
      if (failures-- > 0) throw new ProviderError('ProviderUnavailable', 'anthropic', 'HTTP 500');
      return { text: '- Founded: 1998 [1]', usage: { model: 'fake-model', input_tokens: 100, output_tokens: 20 } };
    },
    structured: async () => ({ value: {}, usage: { model: 'fake-model', input_tokens: 0, output_tokens: 0 } }),
  };
}

describe('a retried research step', () => {
  it('after one search failed: sends only that search again, and counts each billed search once', async () => {
    const journal = memoryJournal();
    const { search, sent } = provider(['headquarters']);
    const journaled = withSearchJournal(search, journal, step);
    await expect(research(input, { search: journaled, model: model() })).rejects.toMatchObject({ name: 'ProviderUnavailable' });
    // The other two searches finished and were journaled before the step failed.
    expect(journal.items.size).toBe(2);

    const findings = await research(input, { search: journaled, model: model() });
    expect(sent).toHaveLength(4); // three, then the failed one again
    expect(new Set(sent).size).toBe(3);
    // Billed: the two that succeeded the first time (replayed at their credits) and the one sent now.
    expect(findings.usage).toMatchObject({ search_queries: 3, search_credits: 6 });
  });

  it('after its LLM call failed: sends no search again', async () => {
    const journal = memoryJournal();
    const { search, sent } = provider();
    const journaled = withSearchJournal(search, journal, step);
    await expect(research(input, { search: journaled, model: model(1) })).rejects.toMatchObject({ name: 'ProviderUnavailable' });
    const findings = await research(input, { search: journaled, model: model() });
    expect(sent).toHaveLength(3);
    expect(findings.usage.search_credits).toBe(6);
  });

  it('keeps steps apart: another iteration, company or job searches for itself', () => {
    const key = searchJournalKey(step, 'tavily', 'Kestrel Looms', 5);
    expect(searchJournalKey({ ...step, iteration: 2 }, 'tavily', 'Kestrel Looms', 5)).not.toBe(key);
    expect(searchJournalKey({ ...step, index: 5 }, 'tavily', 'Kestrel Looms', 5)).not.toBe(key);
    expect(searchJournalKey({ ...step, jobId: 'job-2' }, 'tavily', 'Kestrel Looms', 5)).not.toBe(key);
    expect(key).toMatch(/^journal#[0-9a-f]{64}$/);
  });

  it('searches anyway when the journal fails, and says so', async () => {
    const errors: unknown[] = [];
    const broken: SearchJournal = {
      get: async () => {
        throw new Error('table missing');
      },
      put: async () => {
        throw new Error('table missing');
      },
    };
    const { search, sent } = provider();
    const journaled = withSearchJournal(search, broken, step, { onJournalError: (e) => errors.push(e) });
    expect((await journaled.search('Kestrel Looms', { maxResults: 5 })).hits).toEqual([hit]);
    expect(sent).toEqual(['Kestrel Looms']);
    expect(errors).toHaveLength(2);
  });
});
