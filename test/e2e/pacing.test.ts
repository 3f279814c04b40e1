/**
 * Provider pacing and the search journal in a batch on the local runtime: every provider attempt is counted in the
 * shared rate-limits table, the limits come from the CDK context into the functions' environment, and a research
 * step the state machine retries after a partial failure does not send the searches that had succeeded again.
 */
import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { jobKeys } from '../../lambdas/core/job-layout';
import { fieldsOf } from '../../lambdas/core/json-schema';
import { costOf } from '../../lambdas/core/pricing';
import { planQueries } from '../../lambdas/core/research';
import { documentClient } from '../../lambdas/shared/aws-clients';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
const SEARCH_FAILS = 'Brightgull Robotics'; // its second search answers 503 once
const NOTES_FAIL = 'Tallowmere Payments'; // its notes call answers 500 three times: the in-process retries too
const queriesOf = (company: string) => planQueries(company, fieldsOf(schema), [], 3);

let runtime: LocalRuntime;
let results: CompanyResult[];
let pacingCounters: Record<string, any>[];
const environment: Record<string, string | undefined> = {};

beforeAll(async () => {
  runtime = await startLocalRuntime({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
    // The journal holds even with the search cache off.
    searchCache: false,
    context: { searchRequestsPerMinute: 600, llmInputTokensPerMinute: 300_000 },
    faults: {
      tavily: [{ match: queriesOf(SEARCH_FAILS)[1]!, status: 503, times: 1 }],
      anthropic: [{ match: NOTES_FAIL, status: 500, times: 3 }],
    },
  });
  for (const name of ['SEARCH_REQUESTS_PER_MINUTE', 'LLM_REQUESTS_PER_MINUTE', 'LLM_INPUT_TOKENS_PER_MINUTE', 'SEARCH_CACHE_TABLE_NAME', 'SEARCH_JOURNAL_TABLE_NAME']) {
    environment[name] = process.env[name];
  }
  const submitted = await runtime.api.submitBatch({ companies: [SEARCH_FAILS, NOTES_FAIL], extraction_schema: schema, max_iterations: 1, max_queries: 3 });
  expect(submitted.statusCode).toBe(202);
  const execution = await runtime.waitForJob(submitted.body.job_id);
  expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  results = (await runtime.results.getText(jobKeys.jsonl(submitted.body.job_id)))!.trim().split('\n').map((l) => JSON.parse(l));
  pacingCounters = (await documentClient().send(new ScanCommand({ TableName: process.env.PACING_TABLE_NAME }))).Items ?? [];
});

afterAll(async () => {
  await runtime?.stop();
});

const sum = (items: Record<string, any>[], attribute: string) => items.reduce((total, item) => total + Number(item[attribute] ?? 0), 0);

describe('the configured limits', () => {
  it('reach the functions from the CDK context, the defaults filling in the rest', () => {
    expect(environment).toMatchObject({ SEARCH_REQUESTS_PER_MINUTE: '600', LLM_REQUESTS_PER_MINUTE: '1000', LLM_INPUT_TOKENS_PER_MINUTE: '300000' });
    expect(environment.SEARCH_CACHE_TABLE_NAME).toBeUndefined();
    expect(environment.SEARCH_JOURNAL_TABLE_NAME).toBeTruthy();
  });

  it('count every attempt sent to a provider, retries included, against its key', () => {
    const log = runtime.standInLog()!;
    const tavily = pacingCounters.filter((item) => String(item.limit_key).startsWith('tavily#'));
    const anthropic = pacingCounters.filter((item) => String(item.limit_key).startsWith('anthropic#'));
    expect(sum(tavily, 'requests')).toBe(log.tavily.length);
    expect(sum(anthropic, 'requests')).toBe(log.anthropic.length);
    // Tokens settled to what the answers said; the failed calls hold no output tokens.
    expect(sum(anthropic, 'output_tokens')).toBe(results.reduce((total, r) => total + r.cost.llm_output_tokens, 0));
  });
});

describe('a research step retried by the state machine', () => {
  it('completes both companies', () => {
    expect(results.map((r) => [r.company_name, r.status])).toEqual([
      [SEARCH_FAILS, 'completed'],
      [NOTES_FAIL, 'completed'],
    ]);
  });

  it('sends again only the search that failed, and none after the LLM call failed', () => {
    const statuses = runtime.standInLog()!.tavily.map((r) => r.status);
    // Three searches each, and the failed one once more; without the journal the retries would have sent six more.
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 503)).toHaveLength(1);
    expect(statuses).toHaveLength(7);
    // Three failed notes calls (one attempt and its two retries in-process), then the step's retry: notes, extraction.
    expect(runtime.standInLog()!.anthropic.map((r) => r.status).filter((s) => s === 500)).toHaveLength(3);
  });

  it("bills each search that was answered exactly once in the company's cost", () => {
    const answered = runtime.standInLog()!.tavily.filter((r) => r.status === 200).length;
    expect(results.reduce((total, r) => total + r.cost.search_queries, 0)).toBe(answered);
    for (const { company_name, cost } of results) {
      expect(cost.search_queries, company_name).toBe(3);
      // Priced with one credit a search (replays included), and the tokens of the calls that were answered.
      const usage = { search_queries: 3, search_credits: 3, llm: cost.llm, lambda_gb_seconds: cost.lambda_gb_seconds };
      expect(cost.usd, company_name).toBe(costOf(usage, 1).usd);
    }
  });
});
