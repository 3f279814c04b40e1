/** Research agent task: search, keep raw results in S3, return notes and a reference. */
import { z } from 'zod';
import { researchInputSchema, type ResearchOutput } from '../core/contracts';
import { research } from '../core/research';
import { metrics } from '../shared/observability';
import { languageModel, searchProvider } from '../shared/providers';
import { resultStore } from '../shared/stores';
import { taskHandler } from '../shared/task-handler';

const researchTaskSchema = researchInputSchema.extend({
  job_id: z.string().min(1),
  index: z.number().int().nonnegative(),
  iteration: z.number().int().positive(),
});

export const handler = taskHandler(researchTaskSchema, async (input): Promise<ResearchOutput> => {
  const findings = await research(input, { search: await searchProvider(), model: await languageModel() });
  const store = resultStore();
  const key = await store.putRawResults(input.job_id, input.index, input.iteration, findings.raw_results);
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
});
