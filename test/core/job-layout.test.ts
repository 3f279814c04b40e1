/** The bucket's key layout and the IAM patterns the grants in lib/ are written with: they must describe the same keys. */
import { describe, expect, it } from 'vitest';
import { jobKeyPatterns, jobKeys } from '../../lambdas/core/job-layout';

/** How IAM matches a resource pattern: `*` is any run of characters, `/` included; everything else is literal. */
const iamMatches = (pattern: string, key: string) =>
  new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(key);

const JOB = '0b6c2c1e-1234-4000-8000-000000000000';
const keys: Record<keyof typeof jobKeys, string> = {
  manifest: jobKeys.manifest(JOB, 'a'.repeat(64)),
  settings: jobKeys.settings(JOB, 'a'.repeat(64)),
  redriveManifest: jobKeys.redriveManifest(JOB, 3),
  rawResults: jobKeys.rawResults(JOB, 12, 2),
  resultsPrefix: jobKeys.resultsPrefix(JOB),
  result: jobKeys.result(JOB, 12),
  jsonl: jobKeys.jsonl(JOB),
  csv: jobKeys.csv(JOB),
};

describe('jobKeyPatterns', () => {
  it.each(Object.keys(keys) as (keyof typeof jobKeys)[])('matches every %s key', (kind) => {
    expect(iamMatches(jobKeyPatterns[kind], keys[kind]), `${jobKeyPatterns[kind]} ~ ${keys[kind]}`).toBe(true);
  });

  it('matches no object key of another kind, so a grant on one kind opens no other', () => {
    // resultsPrefix is a listing's prefix, not an object's key.
    const objectKeys = Object.entries(keys).filter(([kind]) => kind !== 'resultsPrefix');
    for (const [kind, pattern] of Object.entries(jobKeyPatterns)) {
      const others = objectKeys.filter(([other]) => other !== kind);
      for (const [other, key] of others) expect(iamMatches(pattern, key), `${kind} pattern ${pattern} ~ ${other} key ${key}`).toBe(false);
    }
  });

  it('a direct A2A research call keeps its raw results under search-results/ too', () => {
    expect(iamMatches(jobKeyPatterns.rawResults, jobKeys.rawResults('a2a-task-1', 0, 1))).toBe(true);
  });
});
