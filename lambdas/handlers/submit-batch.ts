/**
 * POST /research/batch: validates the request, then starts the batch job (lambdas/shared/research-jobs.ts).
 * The execution is named after the job, so a retried submission (same Idempotency-Key) never runs a batch twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { batchRequestSchema } from '../core/contracts';
import { NO_CALLER, callerOf, httpHandler, json, parseResearchRequest, problem, refusedByQuota } from '../shared/http';
import { startBatchJob } from '../shared/research-jobs';

/**
 * A stable job id for an idempotency key: the same key of the same client always names the same job, and two
 * clients choosing the same key never meet.
 */
export function jobIdFor(idempotencyKey: string | undefined, caller: string): string {
  if (!idempotencyKey) return randomUUID();
  const hex = createHash('sha256').update(`dossier-job:${caller}:${idempotencyKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function header(headers: Record<string, string | undefined> | null, name: string): string | undefined {
  const found = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return found?.[1]?.trim() || undefined;
}

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const parsed = parseResearchRequest(event, batchRequestSchema);
  if ('refused' in parsed) return parsed.refused;
  const { request } = parsed;

  const idempotencyKey = header(event.headers, 'idempotency-key');
  if (idempotencyKey && idempotencyKey.length > 200) {
    return problem(400, 'invalid_idempotency_key', 'Idempotency-Key must be at most 200 characters');
  }
  const jobId = jobIdFor(idempotencyKey, caller);
  const outcome = await startBatchJob(request, jobId, { resumable: !!idempotencyKey, submittedBy: caller, chargeUnitsTo: caller });
  switch (outcome.kind) {
    case 'conflict':
      return problem(409, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
    case 'invalid_callback_url':
      return problem(400, 'invalid_callback_url', outcome.problem);
    case 'quota_exceeded':
      return refusedByQuota(outcome.refusal);
    case 'start_failed':
      return outcome.resumable
        ? problem(503, 'start_failed', 'the batch could not be started; send the same request with the same Idempotency-Key again')
        : problem(503, 'start_failed', 'the batch could not be started; submit it again');
    case 'started': {
      const { job } = outcome;
      return json(202, { job_id: jobId, status: job.status, total_companies: job.total, status_url: `/jobs/${jobId}` });
    }
  }
});
