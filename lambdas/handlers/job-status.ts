/** GET /jobs/{job_id}: status and progress, and where the results are once the job is done. */
import type { JobView } from '../core/contracts';
import { config } from '../shared/config';
import { httpHandler, json, problem } from '../shared/http';
import { jobStore } from '../shared/stores';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const handler = httpHandler(async (event) => {
  const jobId = event.pathParameters?.job_id ?? '';
  if (!JOB_ID.test(jobId)) return problem(400, 'invalid_job_id', 'job_id must be the UUID returned by POST /research/batch');
  const job = await jobStore().get(jobId);
  if (!job) return problem(404, 'job_not_found', `no job ${jobId}`);
  const view: JobView = {
    job_id: job.job_id,
    status: job.status,
    progress: { total: job.total, completed: job.completed ?? 0, failed: job.failed ?? 0 },
    created_at: job.created_at,
    updated_at: job.updated_at,
    ...(job.error ? { error: job.error } : {}),
    ...(job.results_jsonl_key && job.results_csv_key
      ? {
          results: {
            jsonl: `s3://${config.bucketName}/${job.results_jsonl_key}`,
            csv: `s3://${config.bucketName}/${job.results_csv_key}`,
          },
        }
      : {}),
  };
  return json(200, view);
}, { emitsMetrics: false });
