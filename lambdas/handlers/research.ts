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
import { languageModel, siteReader, stepSearchProvider } from '../shared/providers';
import { jobStore, resultStore } from '../shared/stores';
import { BudgetExhausted, budgetExhaustion } from '../core/budget';
import { creditsPerSearch } from '../core/tiers';
import { CHAIN_STEP_FIELDS, taskHandler, withLambdaTime } from '../shared/task-handler';

const researchTaskSchema = researchInputSchema.extend({ ...CHAIN_STEP_FIELDS, iteration: z.number().int().positive() });

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
      const reservation = await reserveResearchUnits(caller, input.max_queries * creditsPerSearch(input.search_depth));
      if (!reservation.granted) throw new InputProblem(reservation.refusal.message);
      return { kind: 'completed', output: await researchCompany(input, { jobId: `a2a-${taskId}`, index: 0, iteration: 1 }) };
    },
  },
]);

export const handler = agentEntry({
  task: taskHandler(researchTaskSchema, async (input, context) => {
    const started = Date.now();
    if (input.iteration === 1) await refuseOverBudget(input.job_id);
    const output = await researchCompany(input, { jobId: input.job_id, index: input.index, iteration: input.iteration });
    return withLambdaTime(output, context, started);
  }),
  a2a: bufferedFunctionUrlHandler(agent),
});
