/** GET /jobs/{job_id}: status and progress, and where the results are once the job is done. */
import { config } from '../shared/config';
import { NO_CALLER, callerOf, httpHandler, json, problem } from '../shared/http';
import { jobView } from '../shared/research-jobs';
import { jobStore } from '../shared/stores';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const jobId = event.pathParameters?.job_id ?? '';
  if (!JOB_ID.test(jobId)) return problem(400, 'invalid_job_id', 'job_id must be the UUID returned by POST /research/batch or /research/single');
  const job = await jobStore().get(jobId);
  // Another client's job is answered exactly like a job that does not exist: ids reveal nothing.
  if (!job || job.submitted_by !== caller) return problem(404, 'job_not_found', `no job ${jobId}`);
  return json(200, jobView(job, config.bucketName));
}, { emitsMetrics: false });
