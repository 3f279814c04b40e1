/**
 * The evaluation end to end, offline: four labelled companies (a date in words, a pinned namesake, a contradiction,
 * a company no page is about) through the local pipeline and the scoring, as `npm run eval -- --offline` runs them.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExtractionSchema } from '../../lambdas/core/contracts';
import { hostOf, withinDomain } from '../../lambdas/core/company-identity';
import { runEvaluation, type EvalRun } from '../../eval/evaluate';
import { labelsFileSchema, type LabelsFile } from '../../eval/scoring';

const all = labelsFileSchema.parse(JSON.parse(readFileSync('eval/labels.json', 'utf8')));
const schema = JSON.parse(readFileSync('eval/schema.json', 'utf8')) as ExtractionSchema;
const pick = (name: string, domain?: string) => {
  const label = all.companies.find((c) => c.company_name === name && c.domain === domain);
  if (!label) throw new Error(`no label for ${name}`);
  return label;
};
const labels: LabelsFile = {
  companies: [pick('Oduya Cold Chain'), pick('Halcyon', 'halcyon-aerial.example'), pick('Brisketta Foods'), pick('Quillonby Ferrous')],
};

let run: EvalRun;
beforeAll(async () => {
  run = await runEvaluation({ labels, schema, corpusDir: 'eval/corpus', offline: true, runtime: { retryIntervalMs: 0 } });
});

describe('npm run eval, offline', () => {
  it('runs on the stand-ins and gives every non-null value evidence', () => {
    expect(run.providers).toBe('stand-ins');
    expect(run.results).toHaveLength(4);
    const { values, withEvidence } = run.report.overall;
    expect(values).toBeGreaterThan(10);
    expect(withEvidence).toBe(values);
  });

  it('finds every excerpt verbatim in the corpus page its URL names', () => {
    const { checked, verified, unavailable } = run.report.overall.excerpts;
    expect(checked).toBeGreaterThanOrEqual(run.report.overall.values);
    expect(verified).toBe(checked);
    expect(unavailable).toBe(0);
  });

  it("keeps the pinned namesake to its own domain's pages and values", () => {
    const halcyon = run.results.find((r) => r.index === 1)!;
    const urls = Object.values(halcyon.evidence).flatMap((entries) => entries.map((e) => e.url));
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(withinDomain(hostOf(url)!, 'halcyon-aerial.example'), url).toBe(true);
    expect(run.report.companies[1]!.namesake?.outcome).toBe('right_entity');
    expect(run.report.mismatches.filter((m) => m.index === 1)).toEqual([]);
    expect(halcyon.data.ceo).toBe(labels.companies[1]!.expected.ceo);
  });

  it('reads the date written in words and reports the company without pages as not_found', () => {
    expect(run.report.mismatches.filter((m) => m.index === 0)).toEqual([]);
    expect(run.results.find((r) => r.index === 0)!.data.founded_on).toBe('2004-11-07');
    expect(run.results.find((r) => r.index === 3)!.status).toBe('not_found');
    expect(run.report.notFound).toMatchObject({ expected: 1, expectedAndGot: 1, unexpected: [] });
  });

  it('counts cost for each company', () => {
    expect(run.report.cost.meanUsd).toBeGreaterThan(0);
    expect(run.report.cost.totalUsd).toBeCloseTo(run.results.reduce((s, r) => s + r.cost.usd, 0), 10);
  });
});
