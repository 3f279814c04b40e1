/**
 * Starting research, whichever door it comes through (the REST API, an A2A skill): a batch job on the STANDARD
 * coordinator, or one company on the EXPRESS per-company machine. Both are jobs in the jobs table, with their
 * manifest and results in S3, so GET /jobs/{id} reads either the same way.
 */
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import type { BatchRequest, CompanyResult, JobView, SingleResearchRequest } from '../core/contracts';
import { companyRunInput, executionInput, jobKeys } from '../core/job-layout';
import { toCsv, toJsonl } from '../core/results-files';
import type { JobRecord } from '../store/job-store';
import { sfnClient } from './aws-clients';
import { config } from './config';
import { logger, metrics } from './observability';
import { jobStore, resultStore } from './stores';

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** The job as GET /jobs/{job_id} shows it. */
export function jobView(job: JobRecord, bucket: string): JobView {
  return {
    job_id: job.job_id,
    status: job.status,
    progress: { total: job.total, completed: job.completed ?? 0, failed: job.failed ?? 0 },
    created_at: job.created_at,
    updated_at: job.updated_at,
    ...(job.error ? { error: job.error } : {}),
    ...(job.results_jsonl_key && job.results_csv_key
      ? { results: { jsonl: `s3://${bucket}/${job.results_jsonl_key}`, csv: `s3://${bucket}/${job.results_csv_key}` } }
      : {}),
  };
}

export type StartBatchOutcome =
  | { kind: 'started'; job: JobRecord }
  /** The job id is taken by a different request (an idempotency key reused). */
  | { kind: 'conflict' }
  /** The execution could not be started; `resumable` when the same request can be sent again to resume it. */
  | { kind: 'start_failed'; resumable: boolean };

/**
 * Writes the manifest, records the job and starts the batch execution, named after the job so a retried
 * submission never runs a batch twice.
 */
export async function startBatchJob(request: BatchRequest, jobId: string, options: { resumable: boolean; submittedBy?: string }): Promise<StartBatchOutcome> {
  const requestHash = hashOf(request);
  const results = resultStore();
  const jobs = jobStore();

  // Manifest first: once the job record exists, everything the execution needs is already in place.
  const manifestKey = jobKeys.manifest(jobId, requestHash);
  await results.putJson(manifestKey, request.companies.map((company_name, index) => ({ index, company_name })));
  const { created, job } = await jobs.create(
    { job_id: jobId, total: request.companies.length, request_hash: requestHash, manifest_key: manifestKey, submitted_by: options.submittedBy },
    new Date(),
  );
  if (!created && job.request_hash !== requestHash) return { kind: 'conflict' };

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
        // Resumable: the same request again resumes this job; otherwise nothing could, so close it.
        if (!options.resumable) await jobs.markFailed(jobId, `the batch could not be started: ${(error as Error).message}`, new Date());
        return { kind: 'start_failed', resumable: options.resumable };
      }
    }
  }
  return { kind: 'started', job };
}

/** One company's run failed as a whole (not a provider failure, which the chain records as a failed result). */
export class CompanyRunFailed extends Error {
  override readonly name = 'CompanyRunFailed';
}

/**
 * Researches one company on the EXPRESS per-company machine and waits for it: the same research → extraction →
 * reflection → storage steps as a batch item. The job of one company gets its results files like any batch.
 */
export async function researchOneCompany(request: SingleResearchRequest, jobId: string, submittedBy?: string): Promise<CompanyResult> {
  const results = resultStore();
  const jobs = jobStore();
  const { company_name, ...options } = request;
  const requestHash = hashOf(request);
  const manifestKey = jobKeys.manifest(jobId, requestHash);
  await results.putJson(manifestKey, [{ index: 0, company_name }]);
  const { created } = await jobs.create({ job_id: jobId, total: 1, request_hash: requestHash, manifest_key: manifestKey, submitted_by: submittedBy }, new Date());
  if (!created) throw new CompanyRunFailed(`job ${jobId} already exists`);

  // An EXPRESS execution's ARN is known only once it ends; the job records the machine until then.
  await jobs.markRunning(jobId, config.companyStateMachineArn, new Date());
  const run = await sfnClient().send(
    new StartSyncExecutionCommand({
      stateMachineArn: config.companyStateMachineArn,
      name: jobId,
      input: JSON.stringify(companyRunInput(jobId, 0, company_name, options)),
    }),
  );
  if (run.status !== 'SUCCEEDED') {
    const reason = `the research of ${company_name} ended ${run.status}: ${run.error ?? 'no error'}: ${run.cause ?? ''}`.trim();
    // The chain never reached storage (a timeout, a storage failure): the company still counts, as failed.
    await jobs.countOutcome(jobId, 0, 'failed', new Date());
    await jobs.markFailed(jobId, reason, new Date());
    throw new CompanyRunFailed(reason);
  }
  const result = await results.getCompanyResult(jobId, 0);
  if (!result) {
    await jobs.markFailed(jobId, 'the run ended without storing a result', new Date());
    throw new CompanyRunFailed(`the research of ${company_name} ended without storing a result`);
  }
  await results.putText(jobKeys.jsonl(jobId), toJsonl([result]), 'application/x-ndjson');
  await results.putText(jobKeys.csv(jobId), toCsv([result], request.extraction_schema), 'text/csv');
  await jobs.markCompleted(jobId, { jsonlKey: jobKeys.jsonl(jobId), csvKey: jobKeys.csv(jobId) }, new Date());
  return result;
}
