/**
 * Research agent: search, keep raw results in S3, return notes and a reference.
 * Invoked by the state machine (a task payload) or by A2A clients at its function URL (skill research_company).
 */
import { z } from 'zod';
import { researchInputSchema, type ResearchInput, type ResearchOutput } from '../core/contracts';
import { research } from '../core/research';
import { researchAgent } from '../a2a/agent-catalog';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { agentEntry, bufferedFunctionUrlHandler } from '../shared/function-url';
import { metrics } from '../shared/observability';
import { languageModel, searchProvider } from '../shared/providers';
import { resultStore } from '../shared/stores';
import { assertWithinBudget } from '../shared/budget';
import { taskHandler, withLambdaTime } from '../shared/task-handler';

const researchTaskSchema = researchInputSchema.extend({
  job_id: z.string().min(1),
  index: z.number().int().nonnegative(),
  iteration: z.number().int().positive(),
  /** The job's spending cap; null without one. */
  max_cost_usd: z.number().positive().nullable().default(null),
});

/** Where a round's raw results are kept: under the job's company and iteration. */
interface RawResultsLocation {
  jobId: string;
  index: number;
  iteration: number;
}

export async function researchCompany(input: ResearchInput, at: RawResultsLocation): Promise<ResearchOutput> {
  const findings = await research(input, { search: await searchProvider(), model: await languageModel(input.model) });
  const store = resultStore();
  const key = await store.putRawResults(at.jobId, at.index, at.iteration, findings.raw_results);
  metrics.addMetric('SearchQueries', 'Count', findings.research_queries.length);
  return {
    research_queries: findings.research_queries,
    search_results_ref: { bucket: store.bucket, key, count: findings.raw_results.length },
    sources: findings.sources,
    research_notes: findings.research_notes,
    metadata: {
      provider: input.search_provider,
      queries_executed: findings.research_queries.length,
      results_found: findings.results_found,
      duration_seconds: findings.duration_seconds,
    },
    usage: findings.usage,
  };
}

const agent = lambdaA2aAgent(researchAgent, () => [
  {
    contract: researchAgent.skills[0]!,
    // A direct call has no job: its raw results are kept under the task's id.
    run: async (input: ResearchInput, { taskId }) => ({
      kind: 'completed',
      output: await researchCompany(input, { jobId: `a2a-${taskId}`, index: 0, iteration: 1 }),
    }),
  },
]);

export const handler = agentEntry({
  task: taskHandler(researchTaskSchema, async (input, context) => {
    const started = Date.now();
    // Checked before every round: once the job's cap is reached, no company spends more (lambdas/core/budget.ts).
    await assertWithinBudget(input.job_id, input.max_cost_usd);
    const output = await researchCompany(input, { jobId: input.job_id, index: input.index, iteration: input.iteration });
    return withLambdaTime(output, context, started);
  }),
  a2a: bufferedFunctionUrlHandler(agent),
});
