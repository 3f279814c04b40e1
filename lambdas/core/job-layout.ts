/** Where a job's objects live in the bucket, and what its executions start with. */
import { emptyRecord, zeroUsage, type BatchRequest } from './contracts';
import { resolvePlan, type RunPlan } from './tiers';

export const jobKeys = {
  // Named by the request too: a conflicting request under a reused job id can never overwrite a job's manifest.
  manifest: (jobId: string, requestHash: string) => `jobs/${jobId}/manifest-${requestHash.slice(0, 16)}.json`,
  // Outside jobs/ so one lifecycle rule can expire them.
  rawResults: (jobId: string, index: number, iteration: number) => `search-results/${jobId}/${index}-${iteration}.json`,
  resultsPrefix: (jobId: string) => `jobs/${jobId}/results/`,
  // Zero-padded so a listing comes back in batch order.
  result: (jobId: string, index: number) => `jobs/${jobId}/results/${String(index).padStart(6, '0')}.json`,
  // The settings every company of the job runs with (runSettings), kept for a redrive to run with the same.
  settings: (jobId: string, requestHash: string) => `jobs/${jobId}/settings-${requestHash.slice(0, 16)}.json`,
  // The companies the n-th redrive runs again: the job's manifest items that had not completed.
  redriveManifest: (jobId: string, redrive: number) => `jobs/${jobId}/redrive-${redrive}.json`,
  jsonl: (jobId: string) => `jobs/${jobId}/results.jsonl`,
  csv: (jobId: string) => `jobs/${jobId}/results.csv`,
};

/**
 * The same keys as IAM patterns, for the grants in lib/: `*` stands for what is named at run time (job id, request
 * hash, company index). test/core/job-layout.test.ts checks that every key above matches its pattern.
 */
export const jobKeyPatterns = {
  manifest: 'jobs/*/manifest-*.json',
  settings: 'jobs/*/settings-*.json',
  redriveManifest: 'jobs/*/redrive-*.json',
  rawResults: 'search-results/*',
  /** As the `s3:prefix` of a listing: resultsPrefix. */
  resultsPrefix: 'jobs/*/results/',
  result: 'jobs/*/results/*',
  jsonl: 'jobs/*/results.jsonl',
  csv: 'jobs/*/results.csv',
} satisfies Record<keyof typeof jobKeys, string>;

/** What a request says about how its companies are researched. */
export type RunRequest = Pick<BatchRequest, 'extraction_schema' | 'search_provider' | 'tier' | 'max_iterations' | 'max_queries'>;

/** The settings of a job that every company's run reads: the request's tier resolved to its plan (lambdas/core/tiers.ts). */
export type CompanyRunOptions = RunPlan & Pick<BatchRequest, 'extraction_schema' | 'search_provider'>;

/**
 * Also takes the settings it made before (a redrive reads them back from S3) and keeps their plan, so a redrive runs
 * as its job did even if the tier table changed since. Settings of jobs from before tiers resolve as standard.
 */
export function runSettings(request: RunRequest | CompanyRunOptions): CompanyRunOptions {
  const { extraction_schema, search_provider } = request;
  const plan: RunPlan =
    'search_depth' in request
      ? {
          tier: request.tier,
          max_iterations: request.max_iterations,
          max_queries: request.max_queries,
          search_depth: request.search_depth,
          notes_model: request.notes_model,
          extraction_model: request.extraction_model,
          // Settings saved before sites were read had no such key: their runs searched.
          read_site: (request as Partial<RunPlan>).read_site ?? false,
        }
      : resolvePlan(request);
  return { extraction_schema, search_provider, ...plan };
}

type S3Location = { bucket: string; key: string };

/**
 * The execution input: what every state reads. Bodies of companies stay in S3: `manifest` lists the whole job (what
 * assembly gathers), `items` the companies this execution researches (the manifest itself, or a redrive's subset).
 */
export function executionInput(jobId: string, manifest: S3Location, request: RunRequest | CompanyRunOptions, items: S3Location = manifest) {
  return { job_id: jobId, manifest, items, ...runSettings(request) };
}

/**
 * Batch executions are named after their job, so a retried submission never starts a second one; a redrive runs
 * under a name of its own (names are unique per state machine), from which the job is read back.
 */
export const redriveExecutionName = (jobId: string, redrive: number) => `${jobId}-redrive-${redrive}`;
export const jobIdOfExecution = (executionName: string) => executionName.replace(/-redrive-\d+$/, '');


/**
 * EXPRESS's ceiling, and the company machine's timeout: a job of one company with no outcome well after it can only
 * be a run that ended unrecorded.
 */
export const COMPANY_MACHINE_TIMEOUT_SECONDS = 300;

/**
 * Where a company's run starts: the first iteration, no follow-up queries, nothing spent, an empty record.
 * The Distributed Map's ItemSelector takes these constants from here too.
 */
export function firstIteration() {
  return {
    iteration: 1,
    follow_up_queries: [] as string[],
    usage: zeroUsage(),
    // Every key a later state reads from the record is here from the start: a path to a missing key fails a state.
    // No nulls: CDK leaves a null constant out of the item selector (so `identity` starts as "nothing settled").
    record: { ...emptyRecord(), identity: { pinned: false, other_entities: [] as string[], excluded_pages: 0 } },
  };
}

/**
 * The input of one company's research chain (lib/company-research.ts): exactly what the batch's ItemSelector builds
 * for the company at `index`, so a single-company run (the company machine) starts where a batch's child would.
 */
export function companyRunInput(jobId: string, index: number, companyName: string, request: RunRequest | CompanyRunOptions, domain: string | null = null) {
  return { job_id: jobId, index, company_name: companyName, domain, ...runSettings(request), ...firstIteration() };
}

/**
 * The settings every state of a company's run carries, in one list: the ItemSelector (lib/workflow.ts) and the
 * NextIteration state (lib/company-research.ts) pass exactly these on.
 */
export const RUN_SETTING_KEYS = [
  'extraction_schema',
  'search_provider',
  'tier',
  'max_iterations',
  'max_queries',
  'search_depth',
  'notes_model',
  'extraction_model',
  'read_site',
] as const satisfies readonly (keyof CompanyRunOptions)[];
// Every setting is in the list: a setting added to CompanyRunOptions and not here fails to compile.
const everySettingListed: Exclude<keyof CompanyRunOptions, (typeof RUN_SETTING_KEYS)[number]> extends never ? true : never = true;
void everySettingListed;
