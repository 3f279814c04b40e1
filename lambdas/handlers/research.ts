/**
 * Research agent: search, keep raw results in S3, return notes and a reference.
 * Invoked by the state machine (a task payload) or by A2A clients at its function URL (skill research_company).
 */
import { z } from 'zod';
import { researchInputSchema, type ResearchInput, type ResearchOutput } from '../core/contracts';
import { research } from '../core/research';
import { researchAgent } from '../a2a/agent-catalog';
import { InputProblem } from '../a2a/skill-executor';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { reserveResearchUnits } from '../shared/quotas';
import { agentEntry, bufferedFunctionUrlHandler } from '../shared/function-url';
import { metrics } from '../shared/observability';
import type { ResearchStep } from '../providers/search-journal';
import { languageModel, stepSearchProvider } from '../shared/providers';
import { config } from '../shared/config';
import type { SiteReader } from '../providers/site-reader';
import { createWebSiteReader } from '../providers/web-site-reader';
import { jobStore, resultStore } from '../shared/stores';
import { BudgetExhausted, budgetExhaustion } from '../core/budget';
import { singleResearchUnits } from '../core/quotas';
import { CHAIN_STEP_FIELDS, measuringLambdaTime, taskHandler } from '../shared/task-handler';

const researchTaskSchema = researchInputSchema.extend({ ...CHAIN_STEP_FIELDS, iteration: z.number().int().positive() });

let site: SiteReader | undefined;
/**
 * The reader of companies' own sites, built here rather than with the shared providers: only research reads sites,
 * so only this function loads the HTML libraries. One per container, so a site's robots.txt is read once.
 */
function siteReader(): SiteReader {
  // Only a local run sets a base URL: its stand-in is on this machine, the one place a private address is allowed.
  site ??= createWebSiteReader({ baseUrl: config.webBaseUrl, allowPrivateAddresses: !!config.webBaseUrl });
  return site;
}

/**
 * The step: a company's iteration in a job. Its raw results are kept under it, and a retry of the same step replays
 * the searches already answered (lambdas/providers/search-journal.ts).
 */
export async function researchCompany(input: ResearchInput, at: ResearchStep): Promise<ResearchOutput> {
  const search = await stepSearchProvider(at, input.search_provider);
  // A round without notes needs no model: none is built (nor its key read).
  const model = input.model === 'none' ? undefined : await languageModel(input.model);
  const findings = await research(input, { search, model, site: input.read_site ? siteReader() : undefined });
  const store = resultStore();
  const key = await store.putRawResults(at.jobId, at.index, at.iteration, findings.raw_results);
  metrics.addMetric('SearchQueries', 'Count', findings.research_queries.length);
  if (findings.read_from === 'site') metrics.addMetric('CompanySitesRead', 'Count', 1);
  metrics.addMetric('NamesakePagesExcluded', 'Count', findings.excluded.length);
  return {
    research_queries: findings.research_queries,
    search_results_ref: { bucket: store.bucket, key, count: findings.raw_results.length },
    sources: findings.sources,
    research_notes: findings.research_notes,
    identity: findings.identity,
    metadata: {
      // What was read: `site` for the company's own site; `hybrid` with one key configured is that provider alone.
      provider: findings.read_from === 'site' ? 'site' : search.name,
      queries_executed: findings.research_queries.length,
      results_found: findings.results_found,
      duration_seconds: findings.duration_seconds,
    },
    usage: findings.usage,
  };
}

/**
 * A company of a capped batch starts only while the batch's spend is under its max_cost_usd; one that may not start
 * fails here, and the chain records it failed with the reason, counted like any other failure.
 */
async function refuseOverBudget(jobId: string): Promise<void> {
  const jobs = jobStore();
  // Only a capped job's progress is read: most batches cost one GetItem here.
  if ((await jobs.getRecord(jobId))?.max_cost_usd === undefined) return;
  const problem = budgetExhaustion((await jobs.get(jobId))!);
  if (problem) throw new BudgetExhausted(problem);
}

const agent = lambdaA2aAgent(researchAgent, () => [
  {
    contract: researchAgent.skills[0]!,
    // A direct call has no job: its raw results are kept under the task's id. Its searches are one round's,
    // charged to the caller's daily research units like any research it starts.
    run: async (input: ResearchInput, { taskId, caller }) => {
      const reservation = await reserveResearchUnits(caller, singleResearchUnits({ ...input, max_iterations: 1 }));
      if (!reservation.granted) throw new InputProblem(reservation.refusal.message);
      return { kind: 'completed', output: await researchCompany(input, { jobId: `a2a-${taskId}`, index: 0, iteration: 1 }) };
    },
  },
]);

export const handler = agentEntry({
  task: taskHandler(
    researchTaskSchema,
    measuringLambdaTime(async (input: z.output<typeof researchTaskSchema>) => {
      if (input.iteration === 1) await refuseOverBudget(input.job_id);
      return researchCompany(input, { jobId: input.job_id, index: input.index, iteration: input.iteration });
    }),
  ),
  a2a: bufferedFunctionUrlHandler(agent),
});
