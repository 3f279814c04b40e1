/**
 * Extraction agent: the schema's fields from the research notes, merged with earlier rounds.
 * Invoked by the state machine (a task payload) or by A2A clients at its function URL (skill extract_data).
 */
import { extractionInputSchema, type ExtractionInput, type ExtractionOutput } from '../core/contracts';
import { extract } from '../core/extraction';
import { extractionAgent } from '../a2a/agent-catalog';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { agentEntry, bufferedFunctionUrlHandler } from '../shared/function-url';
import { metrics } from '../shared/observability';
import { languageModel } from '../shared/providers';
import { CHAIN_STEP_FIELDS, taskHandler, withLambdaTime } from '../shared/task-handler';

export async function extractData(input: ExtractionInput): Promise<ExtractionOutput> {
  const output = await extract(input, await languageModel(input.model));
  metrics.addMetric('FieldsRejected', 'Count', output.rejected_fields.length);
  return output;
}

const agent = lambdaA2aAgent(extractionAgent, () => [
  { contract: extractionAgent.skills[0]!, run: async (input: ExtractionInput) => ({ kind: 'completed', output: await extractData(input) }) },
]);

export const handler = agentEntry({
  task: taskHandler(extractionInputSchema.extend(CHAIN_STEP_FIELDS), async ({ job_id: _job, index: _index, ...input }, context) => {
    const started = Date.now();
    return withLambdaTime(await extractData(input), context, started);
  }),
  a2a: bufferedFunctionUrlHandler(agent),
});
