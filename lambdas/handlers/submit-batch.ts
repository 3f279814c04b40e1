/**
 * POST /research/batch: validates the request, writes the manifest, records the job and starts the execution.
 * The execution is named after the job, so a retried submission (same Idempotency-Key) never runs a batch twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { batchRequestSchema, describeZodError } from '../core/contracts';
import { executionInput, jobKeys } from '../core/job-layout';
import { schemaProblem } from '../core/json-schema';
import { sfnClient } from '../shared/aws-clients';
import { config } from '../shared/config';
import { httpHandler, json, problem } from '../shared/http';
import { logger, metrics } from '../shared/observability';
import { jobStore, resultStore } from '../shared/stores';

/** The schema rides along in every company's state; Step Functions caps a state at 256 KB. */
export const MAX_SCHEMA_BYTES = 32 * 1024;

/** A stable job id for an idempotency key: the same key always names the same job. */
export function jobIdFor(idempotencyKey: string | undefined): string {
  if (!idempotencyKey) return randomUUID();
  const hex = createHash('sha256').update(`dossier-job:${idempotencyKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function header(headers: Record<string, string | undefined> | null, name: string): string | undefined {
  const found = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return found?.[1]?.trim() || undefined;
}

export const handler = httpHandler(async (event) => {
  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    return problem(400, 'invalid_json', 'the request body must be a JSON object');
  }
  const parsed = batchRequestSchema.safeParse(body);
  if (!parsed.success) return problem(400, 'invalid_request', describeZodError(parsed.error));
  const request = parsed.data;
  const schemaError = schemaProblem(request.extraction_schema);
  if (schemaError) return problem(400, 'invalid_schema', schemaError);
  if (Buffer.byteLength(JSON.stringify(request.extraction_schema)) > MAX_SCHEMA_BYTES) {
    return problem(413, 'schema_too_large', `extraction_schema must be at most ${MAX_SCHEMA_BYTES} bytes`);
  }

  const idempotencyKey = header(event.headers, 'idempotency-key');
  if (idempotencyKey && idempotencyKey.length > 200) {
    return problem(400, 'invalid_idempotency_key', 'Idempotency-Key must be at most 200 characters');
  }
  const jobId = jobIdFor(idempotencyKey);
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  const results = resultStore();
  const jobs = jobStore();

  // Manifest first: once the job record exists, everything the execution needs is already in place.
  const manifestKey = jobKeys.manifest(jobId, requestHash);
  await results.putJson(manifestKey, request.companies.map((company_name, index) => ({ index, company_name })));
  const { created, job } = await jobs.create(
    { job_id: jobId, total: request.companies.length, request_hash: requestHash, manifest_key: manifestKey },
    new Date(),
  );
  if (!created && job.request_hash !== requestHash) {
    return problem(409, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
  }

  if (created) metrics.addMetric('CompaniesSubmitted', 'Count', job.total);
  if (job.status === 'SUBMITTED') {
    // Also on a replay: the first attempt may have died between recording the job and starting it.
    try {
      await sfnClient().send(
        new StartExecutionCommand({
          stateMachineArn: config.stateMachineArn,
          name: jobId,
          input: JSON.stringify(executionInput(jobId, { bucket: results.bucket, key: job.manifest_key }, request)),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) {
        logger.error('could not start the execution', { jobId, error });
        // With a key, the same request again resumes this job; without one, nothing could, so close it.
        if (idempotencyKey) {
          return problem(503, 'start_failed', 'the batch could not be started; send the same request with the same Idempotency-Key again');
        }
        await jobs.markFailed(jobId, `the batch could not be started: ${(error as Error).message}`, new Date());
        return problem(503, 'start_failed', 'the batch could not be started; submit it again');
      }
    }
  }
  return json(202, { job_id: jobId, status: job.status, total_companies: job.total, status_url: `/jobs/${jobId}` });
});
