/** GET /jobs: the caller's jobs, newest first, a page at a time (`limit`, and `next_token` from the previous page). */
import { listJobsQuerySchema, type JobList } from '../core/contracts';
import { config } from '../shared/config';
import { NO_CALLER, callerOf, httpHandler, json, problem } from '../shared/http';
import { jobView } from '../shared/research-jobs';
import { jobStore } from '../shared/stores';
import { InvalidPageToken } from '../store/job-store';

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const query = listJobsQuerySchema.safeParse(event.queryStringParameters ?? {});
  // Each message names its parameter: a query has no field paths worth printing.
  if (!query.success) return problem(400, 'invalid_query', query.error.issues.map((issue) => issue.message).join('; '));
  const { limit, next_token } = query.data;
  try {
    const page = await jobStore().listForClient(caller, { limit, nextToken: next_token });
    const body: JobList = {
      jobs: page.jobs.map((job) => jobView(job, config.bucketName)),
      ...(page.nextToken ? { next_token: page.nextToken } : {}),
    };
    return json(200, body);
  } catch (error) {
    if (error instanceof InvalidPageToken) return problem(400, 'invalid_next_token', 'next_token must be the next_token of an earlier GET /jobs answer, unchanged');
    throw error;
  }
}, { emitsMetrics: false });
