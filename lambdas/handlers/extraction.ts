/** Extraction agent task: the schema's fields from the research notes, merged with earlier rounds. */
import { extractionInputSchema, type ExtractionOutput } from '../core/contracts';
import { extract } from '../core/extraction';
import { metrics } from '../shared/observability';
import { languageModel } from '../shared/providers';
import { taskHandler } from '../shared/task-handler';

export const handler = taskHandler(extractionInputSchema, async (input): Promise<ExtractionOutput> => {
  const output = await extract(input, await languageModel());
  metrics.addMetric('FieldsRejected', 'Count', output.rejected_fields.length);
  return output;
});
