/**
 * GET /jobs/{job_id}/results: links to download the job's results.jsonl and results.csv straight from S3, signed
 * for 15 minutes, so a client needs no AWS credentials of its own.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { JobResultsLinks } from '../core/contracts';
import { s3Client } from '../shared/aws-clients';
import { config } from '../shared/config';
import { NO_CALLER, callerOf, httpHandler, json, problem } from '../shared/http';
import { INVALID_JOB_ID, JOB_NOT_FOUND, pathJobId } from '../shared/job-routes';
import { jobStore } from '../shared/stores';

const LINK_SECONDS = 15 * 60;

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const jobId = pathJobId(event);
  if (!jobId) return INVALID_JOB_ID();
  const job = await jobStore().get(jobId);
  if (!job || job.submitted_by !== caller) return JOB_NOT_FOUND(jobId);
  if (!job.results_jsonl_key || !job.results_csv_key) {
    const when = job.status === 'SUBMITTED' || job.status === 'RUNNING' ? 'its results files are written when it completes' : 'it ended without results files';
    return problem(409, 'results_not_ready', `job ${jobId} is ${job.status}: ${when}`);
  }

  // Whole seconds, as the signature's X-Amz-Date: expires_at is exactly when the links stop working.
  const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const link = (key: string) =>
    getSignedUrl(s3Client(), new GetObjectCommand({ Bucket: config.bucketName, Key: key }), { expiresIn: LINK_SECONDS, signingDate: signedAt });
  const [jsonl, csv] = await Promise.all([link(job.results_jsonl_key), link(job.results_csv_key)]);
  const body: JobResultsLinks = {
    job_id: jobId,
    expires_at: new Date(signedAt.getTime() + LINK_SECONDS * 1000).toISOString(),
    results: { jsonl, csv },
  };
  return json(200, body);
}, { emitsMetrics: false });
