/** Reflection agent task: is the record complete, and what to search for next if not. */
import { reflectionInputSchema, type ReflectionOutput } from '../core/contracts';
import { reflect } from '../core/completeness';
import { metrics } from '../shared/observability';
import { taskHandler } from '../shared/task-handler';

export const handler = taskHandler(reflectionInputSchema, async (input): Promise<ReflectionOutput> => {
  const output = reflect(input);
  metrics.addMetric('MissingFields', 'Count', output.missing_fields.length);
  return output;
});
