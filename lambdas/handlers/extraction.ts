/** Extraction agent task: the schema's fields from the research notes, merged with earlier rounds. */
import { extractionInputSchema, type ExtractionOutput } from '../core/contracts';
import { extract } from '../core/extraction';
import { languageModel } from '../shared/providers';
import { taskHandler } from '../shared/task-handler';

export const handler = taskHandler(extractionInputSchema, async (input): Promise<ExtractionOutput> =>
  extract(input, await languageModel()),
);
