/**
 * The end of a batch on the local runtime: the assembly streams a job's results into results.jsonl and results.csv
 * (one line per manifest index, in order; a company without a result recorded as failed, once).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedResult } from '../../lambdas/core/company-result';
import { extractedRecordSchema, reflectionOutputSchema, zeroUsage, type CompanyResult, type ExtractionSchema } from '../../lambdas/core/contracts';
import { jobKeys } from '../../lambdas/core/job-layout';
import { toCsv } from '../../lambdas/core/results-files';
import { documentClient } from '../../lambdas/shared/aws-clients';
import { DynamoJobStore } from '../../lambdas/store/job-store';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';
import { lambdaContext } from '../../local/task-handlers';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;

let runtime: LocalRuntime;
let jobs: DynamoJobStore;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
  });
  jobs = new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!);
});

afterAll(async () => {
  await runtime?.stop();
});

const parseJsonl = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as CompanyResult);

describe('assembly', () => {
  const total = 300;
  const unrecorded = [0, 150, 299];
  const jobId = '33333333-3333-4333-8333-333333333333';
  const manifestKey = `jobs/${jobId}/manifest.json`;
  const input = { job_id: jobId, manifest_key: manifestKey, extraction_schema: schema };
  let assemble: (event: unknown, context: unknown) => Promise<any>;

  beforeAll(async () => {
    // Imported once the runtime has set the environment the handler reads.
    assemble = (await import('../../lambdas/handlers/assemble-results')).handler as typeof assemble;
    const manifest = Array.from({ length: total }, (_, index) => ({ index, company_name: `Company ${index}` }));
    await runtime.results.putJson(manifestKey, manifest);
    await jobs.create({ job_id: jobId, total, request_hash: 'h', manifest_key: manifestKey }, new Date());
    // Stored in no particular order, as a map's children finish; three companies never got to storage.
    const stored = manifest.filter((item) => !unrecorded.includes(item.index)).reverse();
    for (const item of stored) {
      const result = completedResult({
        index: item.index,
        companyName: item.company_name,
        record: extractedRecordSchema.parse({ extracted_data: { headquarters: `City ${item.index}` }, confidence_score: 0.8 }),
        reflection: reflectionOutputSchema.parse({ is_complete: false, completeness_score: 0.2, missing_fields: ['ceo'], follow_up_queries: [], quality_issues: [] }),
        iterations: 1,
        usage: zeroUsage(),
      });
      await runtime.results.putCompanyResult(jobId, result);
      await jobs.countOutcome(jobId, item.index, 'completed', new Date());
    }
  });

  const run = () => assemble(input, lambdaContext('Assemble', 'arn:aws:lambda:local:000000000000:function:Assemble', 300_000));

  it('writes one line per manifest index, in order, recording a company without a result as failed', async () => {
    expect(await run()).toEqual({
      total,
      completed: total - unrecorded.length,
      failed: unrecorded.length,
      not_found: 0,
      unrecorded: unrecorded.length,
      recounted: 0,
      results_jsonl_key: jobKeys.jsonl(jobId),
      results_csv_key: jobKeys.csv(jobId),
    });
    const results = parseJsonl((await runtime.results.getText(jobKeys.jsonl(jobId)))!);
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: total }, (_, i) => i));
    for (const result of results) {
      if (unrecorded.includes(result.index)) {
        expect(result).toMatchObject({ status: 'failed', company_name: `Company ${result.index}`, failure_reason: expect.stringMatching(/no result was recorded/) });
        // Stored on its own too, so a second assembly finds it.
        expect(await runtime.results.getCompanyResult(jobId, result.index)).toEqual(result);
      } else {
        expect(result).toMatchObject({ status: 'completed', data: { headquarters: `City ${result.index}` } });
      }
    }
    // The CSV streamed row by row is exactly what the one-shot writer makes of the same results.
    expect(await runtime.results.getText(jobKeys.csv(jobId))).toBe(toCsv(results, schema));
    expect(await jobs.get(jobId)).toMatchObject({ completed: total - unrecorded.length, failed: unrecorded.length });
  });

  it('writes the same files and counts nothing again when it runs a second time', async () => {
    const jsonl = await runtime.results.getText(jobKeys.jsonl(jobId));
    const csv = await runtime.results.getText(jobKeys.csv(jobId));
    expect(await run()).toMatchObject({ total, completed: total - unrecorded.length, failed: unrecorded.length, unrecorded: 0 });
    expect(await runtime.results.getText(jobKeys.jsonl(jobId))).toBe(jsonl);
    expect(await runtime.results.getText(jobKeys.csv(jobId))).toBe(csv);
    expect(await jobs.get(jobId)).toMatchObject({ completed: total - unrecorded.length, failed: unrecorded.length });
  });
});

describe('reconciling the counters with the files', () => {
  it('counts a stored result whose count was lost, and moves a recorded failure whose company completed since', async () => {
    const jobId = '44444444-4444-4444-8444-444444444444';
    const manifestKey = `jobs/${jobId}/manifest.json`;
    const manifest = Array.from({ length: 4 }, (_, index) => ({ index, company_name: `Company ${index}` }));
    await runtime.results.putJson(manifestKey, manifest);
    await jobs.create({ job_id: jobId, total: 4, request_hash: 'h', manifest_key: manifestKey }, new Date());
    const result = (index: number) =>
      completedResult({
        index,
        companyName: `Company ${index}`,
        record: extractedRecordSchema.parse({ extracted_data: { headquarters: 'Aarhus' }, confidence_score: 0.8 }),
        reflection: reflectionOutputSchema.parse({ is_complete: true, completeness_score: 1, missing_fields: [], follow_up_queries: [], quality_issues: [] }),
        iterations: 1,
        usage: zeroUsage(),
      });
    for (const index of [0, 1, 2, 3]) await runtime.results.putCompanyResult(jobId, result(index));
    await jobs.countOutcome(jobId, 0, 'completed', new Date());
    await jobs.countOutcome(jobId, 1, 'completed', new Date());
    // 2: its storage step wrote the result and died before counting it. 3: counted failed, then completed (redrive).
    await jobs.countOutcome(jobId, 3, 'failed', new Date());
    expect(await jobs.get(jobId)).toMatchObject({ completed: 2, failed: 1 });

    const { handler: assemble } = (await import('../../lambdas/handlers/assemble-results')) as unknown as { handler: (e: unknown, c: unknown) => Promise<any> };
    const assembled = await assemble({ job_id: jobId, manifest_key: manifestKey, extraction_schema: schema }, lambdaContext('Assemble', 'arn:aws:lambda:local:000000000000:function:Assemble', 300_000));
    expect(assembled).toMatchObject({ total: 4, completed: 4, failed: 0, unrecorded: 0, recounted: 2 });
    expect(await jobs.get(jobId)).toMatchObject({ completed: 4, failed: 0 });
    expect(await jobs.countedOutcomes(jobId, 4)).toEqual(new Map([0, 1, 2, 3].map((i) => [i, 'completed'])));
  });
});

describe('an object uploaded in parts', () => {
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'é'.repeat(i % 50)}\n`);

  it('holds every piece in order when it spans many parts', async () => {
    const upload = runtime.results.textUpload('jobs/upload-test/many-parts.txt', 'text/plain', 1024);
    for (const line of lines) await upload.write(line);
    await upload.finish();
    expect(await runtime.results.getText('jobs/upload-test/many-parts.txt')).toBe(lines.join(''));
  });

  it('is written with a single request when it fits one part, and may be empty', async () => {
    const upload = runtime.results.textUpload('jobs/upload-test/empty.txt', 'text/plain');
    await upload.finish();
    expect(await runtime.results.getText('jobs/upload-test/empty.txt')).toBe('');
  });

  it('leaves no object behind when aborted', async () => {
    const upload = runtime.results.textUpload('jobs/upload-test/aborted.txt', 'text/plain', 1024);
    for (const line of lines) await upload.write(line);
    await upload.abort();
    expect(await runtime.results.getText('jobs/upload-test/aborted.txt')).toBeUndefined();
  });
});
