/**
 * Reflection agent: is the record complete and can it be trusted (contradictions, stale values, another company's
 * pages), and what to search for next if not.
 * Invoked by the state machine (a task payload) or by A2A clients at its function URL (skill reflect_quality).
 */
import { reflectionInputSchema, type ReflectionInput, type ReflectionOutput } from '../core/contracts';
import { reflect } from '../core/reflection';
import { reflectionAgent } from '../a2a/agent-catalog';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { agentEntry, bufferedFunctionUrlHandler } from '../shared/function-url';
import { metrics } from '../shared/observability';
import { languageModel } from '../shared/providers';
import { CHAIN_STEP_FIELDS, taskHandler } from '../shared/task-handler';

export async function reflectQuality(input: ReflectionInput): Promise<ReflectionOutput> {
  // The small model is asked only when rules cannot tell whether two sources agree: most reflections never call it.
  const output = await reflect(input, { model: () => languageModel('small') });
  metrics.addMetric('MissingFields', 'Count', output.missing_fields.length);
  metrics.addMetric('ContestedFields', 'Count', output.contested_fields.length);
  return output;
}

const agent = lambdaA2aAgent(reflectionAgent, () => [
  { contract: reflectionAgent.skills[0]!, run: async (input: ReflectionInput) => ({ kind: 'completed', output: await reflectQuality(input) }) },
]);

export const handler = agentEntry({
  task: taskHandler(reflectionInputSchema.extend(CHAIN_STEP_FIELDS), ({ job_id: _job, index: _index, ...input }) => reflectQuality(input)),
  a2a: bufferedFunctionUrlHandler(agent),
});
