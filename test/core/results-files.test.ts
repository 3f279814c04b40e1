import { describe, expect, it } from 'vitest';
import { completedResult, countedOutcome, failedResult, failureReason } from '../../lambdas/core/company-result';
import { companyResultSchema, extractedRecordSchema, reflectionOutputSchema, zeroUsage, type CompanyResult, type ExtractionSchema, type Usage } from '../../lambdas/core/contracts';
import { costOf } from '../../lambdas/core/pricing';
import { csvCell, inManifestOrder, toCsv, toJsonl } from '../../lambdas/core/results-files';

const schema: ExtractionSchema = {
  type: 'object',
  properties: {
    headquarters: { type: 'string' },
    products: { type: 'array', items: { type: 'string' } },
    revenue_growth: { type: 'number' },
  },
  required: ['headquarters'],
};

const FIXED_COLUMNS = ['index', 'company_name', 'status', 'complete', 'completeness_score', 'confidence_score', 'iterations'];
const TRAILING_COLUMNS = ['missing_fields', 'failure_reason', 'cost_usd', 'domain', 'unverified_fields', 'contested_fields', 'quality_issues'];

function result(overrides: Partial<CompanyResult> = {}): CompanyResult {
  return {
    index: 0,
    company_name: 'Northwind Robotics',
    status: 'completed',
    data: { headquarters: 'Lyon', products: ['PickBot', 'ShelfScan'], revenue_growth: 0.12 },
    iterations: 1,
    complete: true,
    completeness_score: 1,
    missing_fields: [],
    confidence_score: 0.9,
    sources: {},
    evidence: {},
    field_confidence: {},
    unverified_fields: [],
    contested_fields: [],
    quality_issues: [],
    cost: {
      usd: 0.02,
      search_usd: 0.015,
      llm_usd: 0.005,
      lambda_usd: 0,
      step_functions_usd: 0,
      search_queries: 3,
      search_credits: 3,
      llm_input_tokens: 1000,
      llm_output_tokens: 100,
      llm: { 'claude-haiku-4-5': { input_tokens: 1000, output_tokens: 100, cache_write_tokens: 0, cache_read_tokens: 0 } },
      lambda_gb_seconds: 0,
    },
    ...overrides,
  };
}

const lines = (csv: string) => csv.split('\r\n').slice(0, -1);

describe('toCsv', () => {
  it('has the fixed columns around the schema fields, one row per company', () => {
    const csv = toCsv([result(), result({ index: 1, company_name: 'Bluefin' })], schema);
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = lines(csv);
    expect(header!.split(',')).toEqual([...FIXED_COLUMNS, 'headquarters', 'products', 'revenue_growth', ...TRAILING_COLUMNS]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toBe('0,Northwind Robotics,completed,true,1,0.9,1,Lyon,PickBot; ShelfScan,0.12,,,0.02,,,,');
  });

  it('leaves missing values empty and joins the missing field names', () => {
    const failed = result({ status: 'failed', complete: false, data: {}, missing_fields: ['headquarters', 'products'], failure_reason: 'timeout' });
    const row = lines(toCsv([failed], schema))[1]!;
    expect(row).toBe('0,Northwind Robotics,failed,false,1,0.9,1,,,,headquarters; products,timeout,0.02,,,,');
  });

  it('quotes cells containing commas, quotes or line breaks', () => {
    const tricky = result({
      company_name: 'Acme, Inc.',
      data: { headquarters: 'The "Tower"\nFloor 3', products: [], revenue_growth: null },
    });
    const row = toCsv([tricky], schema).split('\r\n')[1]!;
    expect(row).toBe('0,"Acme, Inc.",completed,true,1,0.9,1,"The ""Tower""\nFloor 3",,,,,0.02,,,,');
  });

  it('neutralises text a spreadsheet would run as a formula', () => {
    const row = lines(toCsv([result({ data: { headquarters: '=HYPERLINK("http://evil.example")' } })], schema))[1]!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    for (const start of ['+', '@']) {
      const cells = lines(toCsv([result({ data: { headquarters: `${start}SUM(A1)` } })], schema))[1]!.split(',');
      expect(cells[7]).toBe(`'${start}SUM(A1)`);
    }
  });

  it('leaves negative numbers as numbers', () => {
    const cells = lines(toCsv([result({ data: { headquarters: '-3.5', revenue_growth: -0.25 } })], schema))[1]!.split(',');
    expect(cells[7]).toBe('-3.5');
    expect(cells[9]).toBe('-0.25');
  });

  it('neutralises a list whose first item is a formula, and text that only starts like a number', () => {
    expect(csvCell(['=1+1', 'x'])).toBe("'=1+1; x");
    expect(csvCell('-1+1+cmd|x')).toBe("'-1+1+cmd|x");
    expect(csvCell(-2)).toBe('-2');
  });

  it('flattens a nested object into one column per property and keeps a list of objects readable in one cell', () => {
    const nested: ExtractionSchema = {
      type: 'object',
      properties: {
        headquarters: { type: 'object', properties: { city: { type: 'string' }, address: { type: 'object', properties: { street: { type: 'string' } } } } },
        offices: { type: 'array', items: { type: 'object', properties: { city: { type: 'string' }, staff: { type: 'integer' } } } },
        tags: { type: 'object' },
      },
    };
    const row = result({
      data: {
        headquarters: { city: 'Aarhus', address: { street: 'Havnen 1' } },
        offices: [{ city: 'Esbjerg', staff: 40 }, { city: 'Hamburg', staff: 12 }],
        tags: { wind: true },
      },
    });
    const [header, line] = lines(toCsv([row], nested));
    expect(header!.split(',').slice(7, 11)).toEqual(['headquarters.city', 'headquarters.address.street', 'offices', 'tags']);
    expect(line).toContain(',Aarhus,Havnen 1,"city: Esbjerg, staff: 40; city: Hamburg, staff: 12",wind: true,');
  });

  it("prefixes a user's field named like one of Dossier's columns, so no column appears twice", () => {
    const clashing: ExtractionSchema = {
      type: 'object',
      properties: { status: { type: 'string' }, domain: { type: 'string' }, ceo: { type: 'string' } },
    };
    const [header, line] = lines(toCsv([result({ data: { status: 'acquired', domain: 'northwind.example', ceo: 'Claire' }, domain: 'northwind.example' })], clashing));
    const columns = header!.split(',');
    expect(new Set(columns).size).toBe(columns.length);
    expect(columns.slice(7, 10)).toEqual(['data.status', 'data.domain', 'ceo']);
    expect(line!.split(',')[2]).toBe('completed');
    expect(line!.split(',').slice(7, 10)).toEqual(['acquired', 'northwind.example', 'Claire']);
  });

  it('is just the header when there are no results', () => {
    expect(lines(toCsv([], schema))).toHaveLength(1);
  });
});

describe('toJsonl', () => {
  it('writes one parseable result per line', () => {
    const results = [result(), result({ index: 1, company_name: 'Line\nBreak Ltd' })];
    const text = toJsonl(results);
    expect(text.endsWith('\n')).toBe(true);
    const parsed = text.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(parsed).toEqual(results);
  });

  it('is empty for no results', () => {
    expect(toJsonl([])).toBe('');
  });
});

describe('inManifestOrder', () => {
  const manifest = Array.from({ length: 10 }, (_, index) => ({ index, company_name: `Company ${index}`, domain: null }));

  /** Reads that settle only when the test says, in whatever order it likes. */
  function controlledReads() {
    const pending = new Map<number, { resolve: (value: string | undefined) => void; reject: (error: Error) => void }>();
    let inFlight = 0;
    let maxInFlight = 0;
    const read = (item: { index: number }) =>
      new Promise<string | undefined>((resolve, reject) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const settle = () => {
          inFlight -= 1;
          pending.delete(item.index);
        };
        pending.set(item.index, {
          resolve: (value) => (settle(), resolve(value)),
          reject: (error) => (settle(), reject(error)),
        });
      });
    return { read, pending, maxInFlight: () => maxInFlight };
  }

  it('yields every item once, in manifest order, though reads finish in reverse, with no more than the window in flight', async () => {
    const reads = controlledReads();
    const stored = inManifestOrder(manifest, reads.read, 3);
    const seen: { index: number; value: string | undefined }[] = [];
    for (;;) {
      const next = stored.next();
      // Settle whatever is in flight, latest first; index 4 has nothing stored.
      await Promise.resolve();
      for (const index of [...reads.pending.keys()].sort((a, b) => b - a)) {
        reads.pending.get(index)!.resolve(index === 4 ? undefined : `result ${index}`);
      }
      const { done, value } = await next;
      if (done) break;
      seen.push({ index: value.item.index, value: value.value });
    }
    expect(seen.map((s) => s.index)).toEqual(manifest.map((m) => m.index));
    expect(seen.find((s) => s.index === 4)!.value).toBeUndefined();
    expect(seen.filter((s) => s.value !== undefined)).toHaveLength(9);
    expect(reads.maxInFlight()).toBeLessThanOrEqual(3);
  });

  it('fails at the turn of a read that failed, after the items before it', async () => {
    const read = async (item: { index: number }) => {
      if (item.index === 2) throw new Error('S3 said no');
      return item.index;
    };
    const seen: number[] = [];
    await expect(async () => {
      for await (const { item } of inManifestOrder(manifest, read, 4)) seen.push(item.index);
    }).rejects.toThrow('S3 said no');
    expect(seen).toEqual([0, 1]);
  });
});

describe('failureReason', () => {
  it("reads a Lambda error's type and message from its Cause", () => {
    const cause = JSON.stringify({ errorType: 'ProviderThrottled', errorMessage: 'tavily: 429 Error', trace: [] });
    expect(failureReason({ Error: 'ProviderThrottled', Cause: cause })).toBe('ProviderThrottled: tavily: 429 Error');
  });

  it('keeps a plain-text cause as it is', () => {
    expect(failureReason({ Error: 'States.Timeout', Cause: 'Task timed out after 130 seconds' })).toBe(
      'States.Timeout: Task timed out after 130 seconds',
    );
  });

  it('falls back to the error name alone', () => {
    expect(failureReason({ Error: 'States.TaskFailed' })).toBe('States.TaskFailed');
    expect(failureReason({})).toBe('Error');
  });
});

describe('completedResult and failedResult', () => {
  const usage: Usage = {
    search_queries: 6,
    search_credits: 6,
    llm: {
      'claude-haiku-4-5': { input_tokens: 15_000, output_tokens: 1_500, cache_write_tokens: 0, cache_read_tokens: 0 },
      'claude-sonnet-4-6': { input_tokens: 1_000, output_tokens: 500, cache_write_tokens: 2_000, cache_read_tokens: 2_000 },
    },
    lambda_gb_seconds: 3,
  };

  const lyon = { url: 'https://a.example', title: 'A', excerpt: 'Headquarters: Lyon' };
  const reflection = reflectionOutputSchema.parse({
    is_complete: true,
    completeness_score: 0.5,
    missing_fields: ['products'],
    follow_up_queries: ['x'],
    quality_issues: ['y'],
    confidence_score: 0.7,
    field_confidence: { headquarters: 0.7 },
  });

  it('builds a completed result from the record and the reflection, priced from its usage', () => {
    const completed = completedResult({
      index: 4,
      companyName: 'Northwind Robotics',
      domain: 'northwind.example',
      record: extractedRecordSchema.parse({
        extracted_data: { headquarters: 'Lyon' },
        evidence: { headquarters: [lyon] },
        field_confidence: { headquarters: 0.9 },
        confidence_score: 0.9,
      }),
      reflection,
      iterations: 2,
      usage,
    });
    expect(companyResultSchema.safeParse(completed).success).toBe(true);
    expect(completed).toMatchObject({
      index: 4,
      domain: 'northwind.example',
      status: 'completed',
      data: { headquarters: 'Lyon' },
      complete: true,
      missing_fields: ['products'],
      // The reflection's judgement, not the extraction's first estimate.
      confidence_score: 0.7,
      field_confidence: { headquarters: 0.7 },
      evidence: { headquarters: [lyon] },
      // Derived from the evidence, for readers of the earlier format.
      sources: { headquarters: 'https://a.example' },
      quality_issues: ['y'],
      iterations: 2,
    });
    // Tokens are totalled over the models, cached ones included, and kept by model too.
    expect(completed.cost).toEqual({
      ...costOf(usage, 2),
      search_queries: 6,
      search_credits: 6,
      llm_input_tokens: 20_000,
      llm_output_tokens: 2_000,
      llm: usage.llm,
      lambda_gb_seconds: 3,
    });
  });

  it('keeps the partial data of a failed company and lists what is still missing', () => {
    const failed = failedResult({
      index: 1,
      companyName: 'Bluefin',
      reason: 'ProviderUnavailable: anthropic: overloaded',
      schema,
      record: extractedRecordSchema.parse({ extracted_data: { products: ['Ocean data'] }, field_sources: { products: 'https://b.example' }, confidence_score: 0.6 }),
      iterations: 1,
      usage,
    });
    expect(companyResultSchema.safeParse(failed).success).toBe(true);
    expect(failed).toMatchObject({
      status: 'failed',
      complete: false,
      data: { products: ['Ocean data'] },
      sources: { products: 'https://b.example' },
      confidence_score: 0.6,
      failure_reason: 'ProviderUnavailable: anthropic: overloaded',
    });
    expect(failed.missing_fields).toEqual(['headquarters', 'revenue_growth']);
    // headquarters is required (weight 2), products and revenue_growth optional (1 each): 1 of 4.
    expect(failed.completeness_score).toBe(0.25);
    // What it spent before failing is priced like any other run's.
    expect(failed.cost).toMatchObject(costOf(usage, 1));
  });

  it('ends a company with no confirmed value as not_found, saying what was searched, with its cost', () => {
    const nothing = (pages_read: number) =>
      completedResult({
        index: 3,
        companyName: 'Ghost Co',
        record: extractedRecordSchema.parse({ extracted_data: {}, confidence_score: 0, pages_read }),
        reflection: reflectionOutputSchema.parse({ is_complete: false, completeness_score: 0, missing_fields: ['headquarters'], follow_up_queries: [], quality_issues: [] }),
        iterations: 2,
        usage,
      });
    expect(companyResultSchema.safeParse(nothing(0)).success).toBe(true);
    expect(nothing(0)).toMatchObject({ status: 'not_found', complete: false, data: {}, quality_issues: ['not found: no page about Ghost Co in 6 searches'] });
    expect(nothing(2).quality_issues[0]).toBe('not found: 2 pages named Ghost Co in 6 searches, and none stated a wanted field in a passage that could be checked');
    // The searches were made: a company not found still costs what it used.
    expect(nothing(0).cost).toMatchObject(costOf(usage, 2));
    expect(nothing(0).cost.usd).toBeGreaterThan(0);
    // Counted as completed: its research finished, and completed + failed stays the number of companies.
    expect(countedOutcome(nothing(0).status)).toBe('completed');
  });

  it('fails a company with nothing found as empty, not as complete', () => {
    const failed = failedResult({ index: 0, companyName: 'Ghost Co', reason: 'x', iterations: 0, usage: zeroUsage() });
    expect(failed).toMatchObject({ data: {}, complete: false, completeness_score: 0, confidence_score: 0, sources: {} });
    // Nothing ran, so nothing is estimated either.
    expect(failed.cost.usd).toBe(0);
  });
});
