/**
 * Runs labelled companies through the local pipeline, the path `dossier run` takes (the submit handler, the state
 * machine synthesized from the CDK app, the stand-ins or the real providers), and scores the results.
 */
import type { CompanyInput, CompanyResult, ExtractionSchema, JobView, Tier } from '../lambdas/core/contracts';
import { jobKeys } from '../lambdas/core/job-layout';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../local/runtime';
import { loadCorpus } from '../local/stand-ins/corpus';
import { scoreEval, type EvalReport, type LabelsFile, type SourceLookup, type SourceText } from './scoring';

export interface EvalOptions {
  labels: LabelsFile;
  schema: ExtractionSchema;
  corpusDir: string;
  tier?: Tier;
  /** The stand-ins even when provider keys are set (as `dossier run --offline`). */
  offline: boolean;
  /** Told the job's progress now and then, for a progress line. */
  onProgress?: (view: JobView) => void;
  /** More runtime options (tests: retryIntervalMs). */
  runtime?: Omit<LocalRuntimeOptions, 'corpusDir' | 'providers'>;
}

export interface EvalRun {
  providers: LocalRuntime['providers'];
  jobId: string;
  results: CompanyResult[];
  report: EvalReport;
  seconds: number;
}

/** Offline the corpus is the whole web: a URL it does not hold is a page that does not exist. */
function corpusLookup(corpusDir: string): SourceLookup {
  const pages = new Map(loadCorpus(corpusDir).map((d) => [d.url, d.content]));
  return (url): SourceText => {
    const text = pages.get(url);
    return text === undefined ? { kind: 'absent' } : { kind: 'text', text };
  };
}

/**
 * With real providers, the texts the research step stored for the job (cut to what it read): a page that is not
 * among them may still exist, so it is `unavailable`, not refuted.
 */
async function storedResultsLookup(runtime: LocalRuntime, jobId: string): Promise<SourceLookup> {
  const pages = new Map<string, string>();
  for (const key of await runtime.results.listKeys(`search-results/${jobId}/`)) {
    for (const hit of (await runtime.results.getRawResults(key)) ?? []) pages.set(hit.url, `${pages.get(hit.url) ?? ''}\n${hit.content}`);
  }
  return (url) => {
    const text = pages.get(url);
    return text === undefined ? { kind: 'unavailable' } : { kind: 'text', text };
  };
}

export async function runEvaluation(options: EvalOptions): Promise<EvalRun> {
  const started = Date.now();
  const companies: CompanyInput[] = options.labels.companies.map((l) => (l.domain ? { company_name: l.company_name, domain: l.domain } : l.company_name));
  const runtime = await startLocalRuntime({
    logLevel: 'ERROR',
    ...options.runtime,
    corpusDir: options.corpusDir,
    providers: options.offline ? 'stand-ins' : 'auto',
  });
  try {
    const submitted = await runtime.api.submitBatch({ companies, extraction_schema: options.schema, ...(options.tier ? { tier: options.tier } : {}) });
    if (submitted.statusCode !== 202) throw new Error(`the batch was refused (${submitted.statusCode}): ${submitted.body?.message ?? JSON.stringify(submitted.body)}`);
    const jobId: string = submitted.body.job_id;
    let finished = false;
    const execution = runtime.waitForJob(jobId).finally(() => (finished = true));
    // Progress is only shown, never waited on: the loop ends when the execution does.
    while (options.onProgress && !finished) {
      options.onProgress((await runtime.api.getJob(jobId)).body as JobView);
      await Promise.race([execution, new Promise((resolve) => setTimeout(resolve, 500))]);
    }
    const outcome = await execution;
    if (outcome.status !== 'SUCCEEDED') throw new Error(`the batch ended ${outcome.status}: ${outcome.error}: ${outcome.cause}`);
    const jsonl = (await runtime.results.getText(jobKeys.jsonl(jobId))) ?? '';
    const results = jsonl.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as CompanyResult);
    const lookup = runtime.providers === 'stand-ins' ? corpusLookup(options.corpusDir) : await storedResultsLookup(runtime, jobId);
    const report = scoreEval(options.labels, results, options.schema, lookup);
    return { providers: runtime.providers, jobId, results, report, seconds: (Date.now() - started) / 1000 };
  } finally {
    await runtime.stop();
  }
}
