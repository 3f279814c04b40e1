import { describe, expect, it } from 'vitest';
import { completedResult, failedResult, failureReason } from '../../lambdas/core/company-result';
import { companyResultSchema, zeroUsage, type CompanyResult, type ExtractionSchema, type Usage } from '../../lambdas/core/contracts';
import { costOf } from '../../lambdas/core/pricing';
import { csvCell, matchToManifest, toCsv, toJsonl } from '../../lambdas/core/results-files';

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
const TRAILING_COLUMNS = ['missing_fields', 'failure_reason', 'cost_usd'];

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
    expect(rows[0]).toBe('0,Northwind Robotics,completed,true,1,0.9,1,Lyon,PickBot; ShelfScan,0.12,,,0.02');
  });

  it('leaves missing values empty and joins the missing field names', () => {
    const failed = result({ status: 'failed', complete: false, data: {}, missing_fields: ['headquarters', 'products'], failure_reason: 'timeout' });
    const row = lines(toCsv([failed], schema))[1]!;
    expect(row).toBe('0,Northwind Robotics,failed,false,1,0.9,1,,,,headquarters; products,timeout,0.02');
  });

  it('quotes cells containing commas, quotes or line breaks', () => {
    const tricky = result({
      company_name: 'Acme, Inc.',
      data: { headquarters: 'The "Tower"\nFloor 3', products: [], revenue_growth: null },
    });
    const row = toCsv([tricky], schema).split('\r\n')[1]!;
    expect(row).toBe('0,"Acme, Inc.",completed,true,1,0.9,1,"The ""Tower""\nFloor 3",,,,,0.02');
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

describe('matchToManifest', () => {
  it('orders results as the manifest does and reports companies without a result', () => {
    const manifest = [
      { index: 0, company_name: 'Northwind Robotics' },
      { index: 1, company_name: 'Bluefin' },
      { index: 2, company_name: 'Acme' },
    ];
    const stored = [result({ index: 2, company_name: 'Acme' }), result({ index: 0 })];
    const { present, missing } = matchToManifest(manifest, stored);
    expect(present.map((r) => r.index)).toEqual([0, 2]);
    expect(missing).toEqual([{ index: 1, company_name: 'Bluefin' }]);
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

  it('leads a spending cap\'s reason with budget_exhausted, the code to filter on', () => {
    const cause = JSON.stringify({ errorType: 'BudgetExhausted', errorMessage: 'the job has spent $0.020000 of its max_cost_usd $0.01' });
    expect(failureReason({ Error: 'BudgetExhausted', Cause: cause })).toBe('budget_exhausted: the job has spent $0.020000 of its max_cost_usd $0.01');
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

  it('builds a completed result from the record and the reflection, priced from its usage', () => {
    const completed = completedResult({
      index: 4,
      companyName: 'Northwind Robotics',
      record: { extracted_data: { headquarters: 'Lyon' }, field_sources: { headquarters: 'https://a.example' }, confidence_score: 0.9 },
      reflection: { is_complete: true, completeness_score: 0.5, missing_fields: ['products'], follow_up_queries: ['x'], quality_issues: ['y'] },
      iterations: 2,
      usage,
    });
    expect(companyResultSchema.safeParse(completed).success).toBe(true);
    expect(completed).toMatchObject({
      index: 4,
      status: 'completed',
      data: { headquarters: 'Lyon' },
      complete: true,
      missing_fields: ['products'],
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
      record: { extracted_data: { products: ['Ocean data'] }, field_sources: { products: 'https://b.example' }, confidence_score: 0.6 },
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

  it('fails a company with nothing found as empty, not as complete', () => {
    const failed = failedResult({ index: 0, companyName: 'Ghost Co', reason: 'x', iterations: 0, usage: zeroUsage() });
    expect(failed).toMatchObject({ data: {}, complete: false, completeness_score: 0, confidence_score: 0, sources: {} });
    // Nothing ran, so nothing is estimated either.
    expect(failed.cost.usd).toBe(0);
  });
});
