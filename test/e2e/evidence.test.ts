/**
 * Evidence, identity and reflection end to end on the local runtime: a schema with a nested object, a capped list,
 * a date, enums and a field named like one of Dossier's own columns, researched through the state machine with the
 * stand-ins; a name two companies share, pinned and not; a company no page is about.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { findExcerpt } from '../../lambdas/core/evidence';
import { jobKeys } from '../../lambdas/core/job-layout';
import { recordProblems } from '../../lambdas/core/json-schema';
import { parseCsvRecords } from '../../local/companies-file';
import { loadCorpus } from '../../local/stand-ins/corpus';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

const schema: ExtractionSchema = {
  type: 'object',
  properties: {
    founded_on: { type: 'string', format: 'date', description: 'Date of founding' },
    // No "year" anywhere: a date on the page must still give the year.
    founded: { type: 'integer', minimum: 1800, description: 'When the company was founded' },
    headquarters: {
      type: 'object',
      properties: { city: { type: 'string' }, country: { type: 'string' } },
      required: ['city'],
    },
    products: { type: 'array', items: { type: 'string' }, maxItems: 10, description: 'Main products' },
    ownership: { type: 'string', enum: ['private', 'public', 'subsidiary'] },
    status: { type: 'string', enum: ['active', 'acquired', 'closed'], description: 'Operating status' },
    ceo: { type: 'string', description: 'Chief executive officer' },
    employee_count: { type: 'integer', description: 'Number of employees' },
  },
};

const corpus = new Map(loadCorpus('examples/corpus').map((d) => [d.url, d]));

let runtime: LocalRuntime;
let jobId: string;
let results: CompanyResult[];
const byIndex = (index: number) => results.find((r) => r.index === index)!;

beforeAll(async () => {
  runtime = await startLocalRuntime({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
  const submitted = await runtime.api.submitBatch({
    companies: [
      'Kestrelmark Instruments',
      { company_name: 'Mercury', domain: 'https://www.Mercury-Freight.example/' },
      'Mercury',
      'Ptarmigan Ledgerworks',
    ],
    extraction_schema: schema,
    max_iterations: 2,
    max_queries: 3,
  });
  expect(submitted.statusCode, JSON.stringify(submitted.body)).toBe(202);
  jobId = submitted.body.job_id;
  const execution = await runtime.waitForJob(jobId);
  expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  results = (await runtime.results.getText(jobKeys.jsonl(jobId)))!.trim().split('\n').map((line) => JSON.parse(line));
});

afterAll(async () => {
  await runtime?.stop();
});

describe('evidence for every value', () => {
  it('gives every non-null value passages that are verbatim in the page they cite', () => {
    let values = 0;
    for (const result of results) {
      for (const [field, value] of Object.entries(result.data)) {
        if (value === null) continue;
        values += 1;
        const passages = result.evidence[field] ?? [];
        expect(passages.length, `${result.company_name}.${field}`).toBeGreaterThan(0);
        for (const passage of passages) {
          const page = corpus.get(passage.url);
          expect(page, passage.url).toBeDefined();
          // Verbatim, not merely after normalisation: what is stored is the page's own text.
          expect(page!.content.includes(passage.excerpt), passage.excerpt).toBe(true);
          expect(findExcerpt(passage.excerpt, page!.content).found).toBe(true);
        }
        expect(result.sources[field]).toBe(passages[0]!.url);
      }
    }
    expect(values).toBeGreaterThan(15);
  });

  it('fills a nested object, cuts a long list to maxItems, reads a date both as a date and as a year, and maps enums', () => {
    const kestrelmark = byIndex(0);
    expect(kestrelmark.status).toBe('completed');
    expect(kestrelmark.data).toMatchObject({
      founded_on: '1996-03-12',
      founded: 1996,
      headquarters: { city: 'Aarhus', country: 'Denmark' },
      ownership: 'private',
      status: 'active',
      ceo: 'Ingrid Halvorsen',
    });
    // The page lists twelve; the schema allows ten: the first ten, not none.
    expect(kestrelmark.data.products).toEqual([
      'GaleSense', 'GaleSense Mini', 'VaneTrack', 'LidarLite', 'IceGuard', 'MastKit', 'KestrelLink', 'KestrelCloud', 'TurbineTune', 'HarbourWind',
    ]);
    expect(recordProblems(schema, kestrelmark.data, { partial: false })).toEqual([]);
    // Read from a line of the page that is not a bullet, and that the research notes do not carry.
    expect(kestrelmark.evidence.headquarters![0]!.excerpt).toBe('Headquarters: Aarhus, Denmark');
    expect(kestrelmark.evidence.founded_on![0]!.excerpt).toBe('Founded: 12 March 1996');
  });

  it('reports two sources that disagree, keeps the record incomplete, and searches again for that field only', async () => {
    const kestrelmark = byIndex(0);
    expect(kestrelmark.contested_fields).toEqual(['employee_count']);
    expect(kestrelmark.quality_issues.join('\n')).toMatch(/employee_count: sources disagree: 480 \(kestrelmark\.example\) against 530 \(nordic-industry-weekly\.example\)/);
    expect(kestrelmark.field_confidence.employee_count).toBeLessThanOrEqual(0.4);
    expect(kestrelmark.complete).toBe(false);
    // A second round ran, of one query: the contested field was the only target (3 queries planned, then 1).
    expect(kestrelmark.iterations).toBe(2);
    expect(kestrelmark.cost.search_queries).toBe(4);
    expect(await runtime.results.listKeys(`search-results/${jobId}/0-2`)).toHaveLength(1);
  });
});

describe('the right company', () => {
  it("keeps a namesake's pages out of a company pinned to its domain", () => {
    const pinned = byIndex(1);
    expect(pinned).toMatchObject({ company_name: 'Mercury', domain: 'mercury-freight.example', status: 'completed' });
    const urls = Object.values(pinned.evidence).flat().map((e) => e.url);
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.every((url) => url.startsWith('https://mercury-freight.example/'))).toBe(true);
    expect(pinned.data.ceo).toBe('Joris van Heemstede');
    expect(pinned.quality_issues).toEqual([]);
    expect(pinned.confidence_score).toBeGreaterThanOrEqual(0.7);
  });

  it('flags a name several companies bear, keeps to one of them, and lowers the confidence', () => {
    const ambiguous = byIndex(2);
    const hosts = new Set(Object.values(ambiguous.evidence).flat().map((e) => new URL(e.url).host));
    // One company's pages, not a blend of two.
    expect(hosts.size).toBe(1);
    expect(ambiguous.quality_issues.join('\n')).toMatch(/"Mercury" also names other companies \(mercury-(bioworks|freight)\.example\).*give the company's domain/);
    expect(ambiguous.confidence_score).toBeLessThanOrEqual(0.5);
  });
});

describe('a company nothing was found for', () => {
  it('ends not_found, counted as completed, not as a record', async () => {
    const ghost = byIndex(3);
    expect(ghost).toMatchObject({ status: 'not_found', complete: false, data: {}, evidence: {} });
    expect(ghost.quality_issues[0]).toMatch(/not found: no page about Ptarmigan Ledgerworks in \d+ searches/);
    const job = (await runtime.api.getJob(jobId)).body;
    expect(job.progress).toEqual({ total: 4, completed: 4, failed: 0 });
  });
});

describe('results.csv', () => {
  it("flattens nested objects, joins lists, and keeps the user's fields apart from Dossier's columns", async () => {
    const csv = (await runtime.results.getText(jobKeys.csv(jobId)))!;
    const header = csv.split('\r\n')[0]!.split(',');
    expect(header.filter((h) => h === 'status')).toHaveLength(1);
    expect(header).toEqual(expect.arrayContaining(['data.status', 'headquarters.city', 'headquarters.country', 'products', 'domain']));
    const rows = parseCsvRecords(csv, 'results.csv');
    expect(rows[0]).toMatchObject({ status: 'completed', 'data.status': 'active', 'headquarters.city': 'Aarhus', 'headquarters.country': 'Denmark' });
    expect(rows[0]!.products).toBe('GaleSense; GaleSense Mini; VaneTrack; LidarLite; IceGuard; MastKit; KestrelLink; KestrelCloud; TurbineTune; HarbourWind');
    expect(rows[1]).toMatchObject({ domain: 'mercury-freight.example' });
    expect(rows[3]).toMatchObject({ status: 'not_found' });
  });
});
