/**
 * POST /jobs/{job_id}/redrive: runs an ended batch's unfinished companies again under the same job (redriveJob).
 * 202 with the job reopened and how many companies run again; the job ends, and its webhook is called, as any batch.
 */
import { config } from '../shared/config';
import { NO_CALLER, callerOf, httpHandler, json, problem, refusedByQuota } from '../shared/http';
import { INVALID_JOB_ID, JOB_NOT_FOUND, pathJobId } from '../shared/job-routes';
import { jobView, redriveJob } from '../shared/research-jobs';

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const jobId = pathJobId(event);
  if (!jobId) return INVALID_JOB_ID();
  const outcome = await redriveJob(jobId, { owner: caller, chargeUnitsTo: caller });
  switch (outcome.kind) {
    case 'not_found':
      return JOB_NOT_FOUND(jobId);
    case 'running':
      return problem(409, 'job_running', `job ${jobId} is ${outcome.job.status}: a job can be redriven once it has ended`);
    case 'nothing_to_redrive':
      return problem(409, 'nothing_to_redrive', `every company of job ${jobId} completed`);
    case 'not_redrivable':
      return problem(409, 'job_not_redrivable', outcome.reason);
    case 'quota_exceeded':
      return refusedByQuota(outcome.refusal);
    case 'redriven':
      return json(202, { ...jobView(outcome.job, config.bucketName), redriven_companies: outcome.companies });
  }
});
