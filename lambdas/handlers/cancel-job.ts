/**
 * POST /jobs/{job_id}/cancel: the batch job ends CANCELLED and its execution stops (cancelJob, shared with the A2A
 * CancelTask). Companies counted before the stop stay counted.
 */
import { config } from '../shared/config';
import { NO_CALLER, callerOf, httpHandler, json, problem } from '../shared/http';
import { INVALID_JOB_ID, JOB_NOT_FOUND, pathJobId } from '../shared/job-routes';
import { cancelJob, jobView } from '../shared/research-jobs';

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const jobId = pathJobId(event);
  if (!jobId) return INVALID_JOB_ID();
  const outcome = await cancelJob(jobId, `canceled by its client (POST /jobs/${jobId}/cancel)`, { owner: caller });
  switch (outcome.kind) {
    case 'not_found':
      return JOB_NOT_FOUND(jobId);
    case 'ended':
      return problem(409, 'job_ended', `job ${jobId} already ended ${outcome.job.status}`);
    case 'not_cancelable':
      return problem(409, 'job_not_cancelable', `job ${jobId} researches one company, which cannot be stopped; it ends by itself within minutes`);
    case 'cancelled':
      // Accepted: the job is CANCELLED now; a company whose step was running may still be counted once.
      return json(202, jobView(outcome.job, config.bucketName));
  }
}, { emitsMetrics: false });
