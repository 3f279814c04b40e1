/**
 * Reflection agent: is the record complete, and what to search for next if not.
 * Invoked by the state machine (a task payload) or by A2A clients at its function URL (skill reflect_quality).
 */
import { reflectionInputSchema, type ReflectionInput, type ReflectionOutput } from '../core/contracts';
import { reflect } from '../core/completeness';
import { reflectionAgent } from '../a2a/agent-catalog';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { agentEntry, bufferedFunctionUrlHandler } from '../shared/function-url';
import { metrics } from '../shared/observability';
import { CHAIN_STEP_FIELDS, taskHandler } from '../shared/task-handler';

export async function reflectQuality(input: ReflectionInput): Promise<ReflectionOutput> {
  const output = reflect(input);
  metrics.addMetric('MissingFields', 'Count', output.missing_fields.length);
  return output;
}

const agent = lambdaA2aAgent(reflectionAgent, () => [
  { contract: reflectionAgent.skills[0]!, run: async (input: ReflectionInput) => ({ kind: 'completed', output: await reflectQuality(input) }) },
]);

export const handler = agentEntry({
  task: taskHandler(reflectionInputSchema.extend(CHAIN_STEP_FIELDS), ({ job_id: _job, index: _index, ...input }) => reflectQuality(input)),
  a2a: bufferedFunctionUrlHandler(agent),
});
