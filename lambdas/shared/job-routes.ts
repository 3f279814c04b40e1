/** What every /jobs/{job_id}… route reads and answers alike. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { problem } from './http';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The path's job id, or undefined when it cannot be one. */
export function pathJobId(event: APIGatewayProxyEvent): string | undefined {
  const jobId = event.pathParameters?.job_id ?? '';
  return JOB_ID.test(jobId) ? jobId : undefined;
}

export const INVALID_JOB_ID = () => problem(400, 'invalid_job_id', 'job_id must be the UUID a research request answered with');

/** Also the answer for another client's job: ids reveal nothing. */
export const JOB_NOT_FOUND = (jobId: string) => problem(404, 'job_not_found', `no job ${jobId}`);
