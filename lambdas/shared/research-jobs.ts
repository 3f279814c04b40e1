/**
 * Starting research, whichever door it comes through (the REST API, an A2A skill): a batch job on the STANDARD
 * coordinator, or one company on the EXPRESS per-company machine. Both are jobs in the jobs table, with their
 * manifest and results in S3, so GET /jobs/{id} reads either the same way.
 */
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, ExecutionDoesNotExist, StartExecutionCommand, StartSyncExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { companyEntry, type BatchRequest, type CompanyResult, type ExtractionSchema, type JobView, type SingleResearchRequest } from '../core/contracts';
import {
  COMPANY_MACHINE_TIMEOUT_SECONDS,
  companyRunInput,
  executionInput,
  jobKeys,
  redriveExecutionName,
  runSettings,
  type CompanyRunOptions,
} from '../core/job-layout';
import { batchResearchUnits, singleResearchUnits, type QuotaRefusal } from '../core/quotas';
import { toCsv, toJsonl } from '../core/results-files';
import type { JobRecord } from '../store/job-store';
import { pushUrlProblem } from '../a2a/push-url-policy';
import { sfnClient } from './aws-clients';
import { config } from './config';
import { logger, metrics } from './observability';
import { reserveResearchUnits, type Reservation } from './quotas';
import { jobStore, resultStore } from './stores';

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

const isOpen = (job: Pick<JobRecord, 'status'>) => job.status === 'SUBMITTED' || job.status === 'RUNNING';

/**
 * A job of one company still open this long after it was created outlived the company machine's limit (plus the
 * storage step's own timeout, for a last write): its run ended without recording an outcome, and nobody was left
 * to record it (a REST call that answered 202 is frozen; EXPRESS executions send no end events).
 */
const SINGLE_RUN_UNRECORDED_AFTER_MS = (COMPANY_MACHINE_TIMEOUT_SECONDS + 60) * 1000;

/** The job as GET /jobs/{job_id} shows it. */
export function jobView(job: JobRecord, bucket: string, now = new Date()): JobView {
  const completed = job.completed ?? 0;
  const failed = job.failed ?? 0;
  // Reported, not stored (the status function only reads): the company without an outcome counts as failed, as
  // researchOneCompany records a run it saw time out.
  const unrecorded = job.kind === 'single' && isOpen(job) && now.getTime() - Date.parse(job.created_at) > SINGLE_RUN_UNRECORDED_AFTER_MS;
  return {
    job_id: job.job_id,
    status: unrecorded ? 'FAILED' : job.status,
    progress: { total: job.total, completed, failed: unrecorded ? job.total - completed : failed },
    created_at: job.created_at,
    updated_at: job.updated_at,
    ...(unrecorded
      ? { error: `the run ended without recording an outcome: no result within the company machine's ${COMPANY_MACHINE_TIMEOUT_SECONDS / 60}-minute limit` }
      : {}),
    ...(job.error ? { error: job.error } : {}),
    ...(job.results_jsonl_key && job.results_csv_key
      ? { results: { jsonl: `s3://${bucket}/${job.results_jsonl_key}`, csv: `s3://${bucket}/${job.results_csv_key}` } }
      : {}),
    ...(job.cost_usd !== undefined ? { cost_usd: job.cost_usd } : {}),
    ...(job.max_cost_usd !== undefined ? { max_cost_usd: job.max_cost_usd } : {}),
    ...(job.redrives ? { redrives: job.redrives } : {}),
    ...(job.callback_url ? { webhook: { url: job.callback_url, ...(job.webhook ?? { status: 'pending' as const, attempts: 0 }) } } : {}),
  };
}

export type StartBatchOutcome =
  | { kind: 'started'; job: JobRecord }
  /** The job id is taken by a different request (an idempotency key reused). */
  | { kind: 'conflict' }
  /** The execution could not be started; `resumable` when the same request can be sent again to resume it. */
  | { kind: 'start_failed'; resumable: boolean }
  /** The callback_url is one Dossier will not call (lambdas/a2a/push-url-policy.ts). */
  | { kind: 'invalid_callback_url'; problem: string }
  /** The client's research units for today do not cover the batch; no job was created. */
  | { kind: 'quota_exceeded'; refusal: QuotaRefusal };

/**
 * Writes the manifest, records the job and starts the batch execution, named after the job so a retried
 * submission never runs a batch twice. With `chargeUnitsTo`, the batch's research units are reserved from that
 * client's daily quota first: once per job, so a replay (same job id) is never charged again.
 */
export async function startBatchJob(
  request: BatchRequest,
  jobId: string,
  options: { resumable: boolean; submittedBy?: string; chargeUnitsTo?: string },
): Promise<StartBatchOutcome> {
  if (request.callback_url) {
    const problem = pushUrlProblem(request.callback_url, { allowPrivate: config.allowPrivatePushUrls });
    if (problem) return { kind: 'invalid_callback_url', problem: problem.replace('push notification url', 'callback_url') };
  }
  const requestHash = hashOf(request);
  // What every company runs with: charged for, saved for a redrive, and started with.
  const settings = runSettings(request);
  const results = resultStore();
  const jobs = jobStore();

  // Reserved only for a job that does not exist yet (a random id never does): a replay finds its job and is not
  // charged, and two racing first attempts both reserve, but the one that does not create the job releases.
  let reservation: Reservation | undefined;
  if (options.chargeUnitsTo && !(options.resumable && (await jobs.get(jobId)))) {
    reservation = await reserveResearchUnits(options.chargeUnitsTo, batchResearchUnits(request.companies.length, settings));
    if (!reservation.granted) return { kind: 'quota_exceeded', refusal: reservation.refusal };
  }
  const release = async () => {
    if (reservation?.granted) await reservation.release();
  };

  // Manifest first: once the job record exists, everything the execution needs is already in place.
  const manifestKey = jobKeys.manifest(jobId, requestHash);
  let recorded: Awaited<ReturnType<typeof jobs.create>>;
  try {
    await results.putJson(manifestKey, request.companies.map((company, index) => ({ index, ...companyEntry(company) })));
    await results.putJson(jobKeys.settings(jobId, requestHash), settings);
    recorded = await jobs.create(
      {
        job_id: jobId,
        total: request.companies.length,
        request_hash: requestHash,
        manifest_key: manifestKey,
        submitted_by: options.submittedBy,
        kind: 'batch',
        callback_url: request.callback_url,
        max_cost_usd: request.max_cost_usd,
      },
      new Date(),
    );
  } catch (error) {
    // No job to show for the units (a retry would reserve them again): give them back.
    await release();
    throw error;
  }
  const { created, job } = recorded;
  if (!created) await release();
  if (!created && job.request_hash !== requestHash) return { kind: 'conflict' };

  if (created) metrics.addMetric('CompaniesSubmitted', 'Count', job.total);
  if (job.status === 'SUBMITTED') {
    // Also on a replay: the first attempt may have died between recording the job and starting it.
    try {
      await sfnClient().send(
        new StartExecutionCommand({
          stateMachineArn: config.stateMachineArn,
          name: jobId,
          input: JSON.stringify(executionInput(jobId, { bucket: results.bucket, key: job.manifest_key }, settings)),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) {
        logger.error('could not start the execution', { jobId, error });
        // Resumable: the same request again resumes this job; otherwise nothing could, so close it.
        if (!options.resumable) {
          await jobs.markFailed(jobId, `the batch could not be started: ${(error as Error).message}`, new Date());
          // Closed before it ran a search: its units go back (a resumable job keeps them for the replay that resumes it).
          await release();
        }
        return { kind: 'start_failed', resumable: options.resumable };
      }
    }
  }
  return { kind: 'started', job };
}

export type CancelOutcome =
  | { kind: 'cancelled'; job: JobRecord }
  /** No such job, or (with `owner`) another client's: the two look the same. */
  | { kind: 'not_found' }
  /** The job had already ended; it stays as it ended. */
  | { kind: 'ended'; job: JobRecord }
  /** A job of one company: its EXPRESS run cannot be stopped, and it ends by itself within the machine's limit. */
  | { kind: 'not_cancelable'; job: JobRecord };

/** A batch execution's ARN from its name (the job's id, or a redrive's name): known before RecordJob writes it down. */
const batchExecutionArn = (executionName: string) => `${config.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;

/**
 * Cancels a batch job, whichever door asks (POST /jobs/{job_id}/cancel, the A2A CancelTask): the job ends CANCELLED
 * and its execution stops. Companies already counted stay counted; a company whose step was running when the
 * execution stopped may still be counted once, with its result stored.
 */
export async function cancelJob(jobId: string, reason: string, options: { owner?: string } = {}): Promise<CancelOutcome> {
  const jobs = jobStore();
  const job = await jobs.get(jobId);
  if (!job || (options.owner !== undefined && job.submitted_by !== options.owner)) return { kind: 'not_found' };
  if (!isOpen(job)) return { kind: 'ended', job };
  if (job.kind === 'single') return { kind: 'not_cancelable', job };
  // Recorded first: stopping the execution sends the end-of-execution event, which closes a job still open as FAILED.
  if (!(await jobs.markEnded(jobId, 'CANCELLED', reason, new Date()))) return { kind: 'ended', job: (await jobs.get(jobId)) ?? job };
  try {
    await sfnClient().send(new StopExecutionCommand({ executionArn: job.execution_arn ?? batchExecutionArn(jobId), error: 'JobCanceled', cause: reason }));
  } catch (error) {
    // Not started yet (canceled between being recorded and started): RecordJob refuses a job that is no longer SUBMITTED.
    if (!(error instanceof ExecutionDoesNotExist)) throw error;
  }
  return { kind: 'cancelled', job: (await jobs.get(jobId)) ?? job };
}

export type RedriveOutcome =
  | { kind: 'redriven'; job: JobRecord; companies: number }
  /** No such job, or (with `owner`) another client's: the two look the same. */
  | { kind: 'not_found' }
  /** Still running (or already being redriven): nothing to redrive until it ends. */
  | { kind: 'running'; job: JobRecord }
  /** Every company completed. */
  | { kind: 'nothing_to_redrive'; job: JobRecord }
  /** A job of one company (researched again by asking again), or one recorded before redrives were possible. */
  | { kind: 'not_redrivable'; job: JobRecord; reason: string }
  | { kind: 'quota_exceeded'; refusal: QuotaRefusal };

/**
 * Runs an ended batch job's unfinished companies again (POST /jobs/{job_id}/redrive): those counted failed and those
 * never counted (a canceled or failed batch), on a new execution of the coordinator over just those companies,
 * under the same job. Step Functions' own RedriveExecution restarts a failed execution from the state that failed;
 * Dossier's companies fail inside executions that succeed (each failure is caught and recorded as a result), so
 * that would re-run nothing. The job's counters stay true throughout: a re-run company that completes moves from
 * failed to completed (countOutcome), one that fails again stays failed once, and assembly rewrites the results files.
 */
export async function redriveJob(jobId: string, options: { owner?: string; chargeUnitsTo?: string } = {}): Promise<RedriveOutcome> {
  const jobs = jobStore();
  const results = resultStore();
  const job = await jobs.get(jobId);
  if (!job || (options.owner !== undefined && job.submitted_by !== options.owner)) return { kind: 'not_found' };
  if (isOpen(job)) return { kind: 'running', job };
  if (job.kind === 'single') return { kind: 'not_redrivable', job, reason: `job ${jobId} researched one company: ask POST /research/single again` };
  const settings = await results.getJson<CompanyRunOptions>(jobKeys.settings(jobId, job.request_hash));
  if (!settings) return { kind: 'not_redrivable', job, reason: `job ${jobId} was recorded before redrives were possible: submit its companies again` };

  const outcomes = await jobs.countedOutcomes(jobId, job.total);
  const again = (await results.getManifest(job.manifest_key)).filter((item) => outcomes.get(item.index) !== 'completed');
  if (!again.length) return { kind: 'nothing_to_redrive', job };

  let reservation: Reservation | undefined;
  if (options.chargeUnitsTo) {
    reservation = await reserveResearchUnits(options.chargeUnitsTo, again.length * singleResearchUnits(settings));
    if (!reservation.granted) return { kind: 'quota_exceeded', refusal: reservation.refusal };
  }
  const release = async () => {
    if (reservation?.granted) await reservation.release();
  };

  const redrive = (job.redrives ?? 0) + 1;
  const items = { bucket: results.bucket, key: jobKeys.redriveManifest(jobId, redrive) };
  const name = redriveExecutionName(jobId, redrive);
  // The subset first: once the job reads SUBMITTED again, everything its execution needs is in place.
  await results.putJson(items.key, again);
  if (!(await jobs.reopenForRedrive(job, batchExecutionArn(name), new Date()))) {
    await release();
    const now = (await jobs.get(jobId)) ?? job;
    return isOpen(now) ? { kind: 'running', job: now } : { kind: 'not_redrivable', job: now, reason: `job ${jobId} changed while its redrive was being prepared: try again` };
  }
  try {
    await sfnClient().send(
      new StartExecutionCommand({
        stateMachineArn: config.stateMachineArn,
        name,
        input: JSON.stringify(executionInput(jobId, { bucket: results.bucket, key: job.manifest_key }, settings, items)),
      }),
    );
  } catch (error) {
    // Nothing ran: the job ends as it was, the units go back, and the same request can be made again.
    logger.error('could not start the redrive', { jobId, redrive, error });
    await jobs.restoreAfterRedrive(job, new Date());
    await release();
    throw error;
  }
  metrics.addMetric('CompaniesRedriven', 'Count', again.length);
  return { kind: 'redriven', job: (await jobs.get(jobId)) ?? job, companies: again.length };
}

/** One company's run failed as a whole (not a provider failure, which the chain records as a failed result). */
export class CompanyRunFailed extends Error {
  override readonly name = 'CompanyRunFailed';
}

/** The caller stopped waiting for a company's run; the run goes on, and its job closes itself (closeSingleJob). */
export class CompanyRunStillRunning extends Error {
  override readonly name = 'CompanyRunStillRunning';
  constructor(readonly jobId: string) {
    super(`job ${jobId} is still running`);
  }
}

/** The work's outcome, or undefined once the signal aborts; the work itself goes on either way. */
function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return work;
  return new Promise((resolve, reject) => {
    const stop = () => resolve(undefined);
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.finally(() => signal.removeEventListener('abort', stop)).then(resolve, reject);
  });
}

/**
 * Researches one company on the EXPRESS per-company machine and waits for it: the same research → extraction →
 * reflection → storage steps as a batch item. The chain's storage step closes the job of one company (results
 * files, COMPLETED: closeSingleJob), so nothing here needs to run after the machine: a caller may stop waiting
 * with `signal` (CompanyRunStillRunning). The signal ends only the wait: the run is always started, never stopped.
 */
export async function researchOneCompany(
  request: SingleResearchRequest,
  jobId: string,
  submittedBy?: string,
  options: { signal?: AbortSignal } = {},
): Promise<CompanyResult> {
  const results = resultStore();
  const jobs = jobStore();
  const { company_name, domain, ...runOptions } = request;
  const requestHash = hashOf(request);
  const manifestKey = jobKeys.manifest(jobId, requestHash);
  await results.putJson(manifestKey, [{ index: 0, company_name, domain: domain ?? null }]);
  const { created } = await jobs.create(
    { job_id: jobId, total: 1, request_hash: requestHash, manifest_key: manifestKey, submitted_by: submittedBy, kind: 'single' },
    new Date(),
  );
  if (!created) throw new CompanyRunFailed(`job ${jobId} already exists`);

  // An EXPRESS execution's ARN is known only once it ends; the job records the machine until then.
  await jobs.markRunning(jobId, config.companyStateMachineArn, new Date());
  // Not the SDK's abortSignal: an abort before the request went out would leave a RUNNING job with no run.
  const run = await unlessAborted(
    sfnClient().send(
      new StartSyncExecutionCommand({
        stateMachineArn: config.companyStateMachineArn,
        name: jobId,
        input: JSON.stringify(companyRunInput(jobId, 0, company_name, runOptions, domain ?? null)),
      }),
    ),
    options.signal,
  );
  if (!run) throw new CompanyRunStillRunning(jobId);
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
  return result;
}

/**
 * Closes a job of one company once its outcome is counted: results.jsonl and results.csv, then COMPLETED. The
 * company machine's storage step calls it, the one step every run passes whether or not anyone still waits for it.
 * Safe to repeat (a retried step): the files are written again with the same content, an ended job stays as it is.
 * Returns whether it closed the job now; a batch's company leaves its job alone (assembly closes a batch).
 */
export async function closeSingleJob(jobId: string, result: CompanyResult, schema: ExtractionSchema): Promise<boolean> {
  const jobs = jobStore();
  // The job's own item first: a batch's companies, the common case, need nothing more.
  const record = await jobs.getRecord(jobId);
  if (record?.kind !== 'single' || !isOpen(record)) return false;
  const job = (await jobs.get(jobId))!;
  if (job.completed + job.failed < job.total) return false;
  const results = resultStore();
  // One company: its result is the whole of the job's files.
  await results.putText(jobKeys.jsonl(jobId), toJsonl([result]), 'application/x-ndjson');
  await results.putText(jobKeys.csv(jobId), toCsv([result], schema), 'text/csv');
  return jobs.markCompleted(jobId, { jsonlKey: jobKeys.jsonl(jobId), csvKey: jobKeys.csv(jobId) }, new Date());
}
