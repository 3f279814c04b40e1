/** Where a job's objects live in the bucket, and what its execution starts with. */
import type { BatchRequest } from './contracts';

export const jobKeys = {
  // Named by the request too: a conflicting request under a reused job id can never overwrite a job's manifest.
  manifest: (jobId: string, requestHash: string) => `jobs/${jobId}/manifest-${requestHash.slice(0, 16)}.json`,
  // Outside jobs/ so one lifecycle rule can expire them.
  rawResults: (jobId: string, index: number, iteration: number) => `search-results/${jobId}/${index}-${iteration}.json`,
  resultsPrefix: (jobId: string) => `jobs/${jobId}/results/`,
  // Zero-padded so a listing comes back in batch order.
  result: (jobId: string, index: number) => `jobs/${jobId}/results/${String(index).padStart(6, '0')}.json`,
  jsonl: (jobId: string) => `jobs/${jobId}/results.jsonl`,
  csv: (jobId: string) => `jobs/${jobId}/results.csv`,
};

/** The execution input: what every state reads. Bodies of companies stay in the S3 manifest. */
export function executionInput(jobId: string, manifest: { bucket: string; key: string }, request: BatchRequest) {
  return {
    job_id: jobId,
    manifest,
    extraction_schema: request.extraction_schema,
    max_iterations: request.max_iterations,
    max_queries: request.max_queries,
    search_provider: request.search_provider,
  };
}

