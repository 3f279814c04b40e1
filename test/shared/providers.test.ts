/**
 * Which search provider a research call gets (lambdas/shared/providers.ts), from the keys there are: `hybrid`, the
 * default, works with one key and takes the second once it appears; a provider without its key fails saying so.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { searchProvider } from '../../lambdas/shared/providers';

const KEYS = ['TAVILY_API_KEY', 'TAVILY_SECRET_ARN', 'GEMINI_API_KEY', 'GEMINI_SECRET_ARN', 'SEARCH_CACHE_TABLE_NAME'];

beforeEach(() => {
  for (const key of KEYS) vi.stubEnv(key, '');
  // The warning about a missing key is expected here.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('searchProvider', () => {
  it('fails hybrid without any search key, naming both, and remembers no failure', async () => {
    await expect(searchProvider('hybrid')).rejects.toThrow(/hybrid search needs a Tavily or a Gemini key; .*TAVILY_API_KEY.*GEMINI_API_KEY/);
    await expect(searchProvider('google')).rejects.toThrow(/GEMINI_API_KEY/);
  });

  it('makes hybrid the one provider with a key, then both a few minutes after the second key is there', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.stubEnv('GEMINI_API_KEY', 'gemini-key');
    expect((await searchProvider('hybrid')).name).toBe('google');
    vi.stubEnv('TAVILY_API_KEY', 'tvly-key');
    // The keys are not looked up again on every call.
    expect((await searchProvider('hybrid')).name).toBe('google');
    vi.setSystemTime(Date.now() + 301_000);
    expect((await searchProvider('hybrid')).name).toBe('hybrid');
    // Built once, then kept for the container's life.
    expect(await searchProvider('hybrid')).toBe(await searchProvider('hybrid'));
  });

  it('gives tavily and google their own provider', async () => {
    vi.stubEnv('GEMINI_API_KEY', 'gemini-key');
    vi.stubEnv('TAVILY_API_KEY', 'tvly-key');
    expect((await searchProvider('tavily')).name).toBe('tavily');
    expect((await searchProvider('google')).name).toBe('google');
  });
});
