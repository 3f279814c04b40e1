/**
 * Extraction agent: the schema's fields from the pages research read, each value kept only with a passage of its page
 * that states it, merged with earlier rounds.
 * Invoked by the state machine (a task payload) or by A2A clients at its function URL (skill extract_data).
 */
import type { z } from 'zod';
import { extractionInputSchema, type ExtractionInput, type ExtractionOutput } from '../core/contracts';
import { extract } from '../core/extraction';
import { extractionAgent } from '../a2a/agent-catalog';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { agentEntry, bufferedFunctionUrlHandler } from '../shared/function-url';
import { metrics } from '../shared/observability';
import { languageModel } from '../shared/providers';
import { resultStore } from '../shared/stores';
import { CHAIN_STEP_FIELDS, measuringLambdaTime, taskHandler } from '../shared/task-handler';

/**
 * The sources with their texts: each value is checked against the page it is quoted from. The state carries only
 * a reference to research's stored results (payloads are capped at 256 KB), so the texts are read back here.
 */
async function withTexts(input: ExtractionInput): Promise<ExtractionInput['sources']> {
  const ref = input.search_results_ref;
  if (!input.sources || !ref || input.sources.every((s) => s.content !== undefined)) return input.sources;
  const store = resultStore();
  // Only Dossier's own bucket: a caller cannot make the agent read elsewhere.
  if (ref.bucket !== store.bucket) return input.sources;
  const pages = new Map((await store.getRawResults(ref.key))?.map((page) => [page.url, page.content]) ?? []);
  return input.sources.map((source) => ({ ...source, content: source.content ?? pages.get(source.url) }));
}

export async function extractData(input: ExtractionInput): Promise<ExtractionOutput> {
  const output = await extract({ ...input, sources: await withTexts(input) }, await languageModel(input.model));
  metrics.addMetric('FieldsRejected', 'Count', output.rejected_fields.length);
  metrics.addMetric('FieldsUnverified', 'Count', output.unverified_fields.length);
  return output;
}

const agent = lambdaA2aAgent(extractionAgent, () => [
  { contract: extractionAgent.skills[0]!, run: async (input: ExtractionInput) => ({ kind: 'completed', output: await extractData(input) }) },
]);

const extractionTaskSchema = extractionInputSchema.extend(CHAIN_STEP_FIELDS);

export const handler = agentEntry({
  task: taskHandler(
    extractionTaskSchema,
    measuringLambdaTime(({ job_id: _job, index: _index, ...input }: z.output<typeof extractionTaskSchema>) => extractData(input)),
  ),
  a2a: bufferedFunctionUrlHandler(agent),
});
