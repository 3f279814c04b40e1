/** The extraction step: ask the model for the schema's fields, keep only what is valid and cited, merge with earlier rounds. */
import { z } from 'zod';
import type { ExtractedRecord, ExtractionInput, ExtractionOutput } from './contracts';
import { fieldProblem, fieldsOf, isFilled } from './json-schema';
import {
  EXTRACTION_SYSTEM_PROMPT,
  EXTRACTION_TOOL_DESCRIPTION,
  EXTRACTION_TOOL_NAME,
  extractionPrompt,
} from './prompts';
import { addModelCall } from './usage';
import type { LanguageModel } from '../providers/language-model';
import type { ExtractionSchema } from './contracts';

export const EXTRACTION_MAX_TOKENS = 2_048;

/** The tool the model is made to call: the user's fields, plus where each came from and how sure it is. */
export function extractionToolSchema(schema: ExtractionSchema): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      // `required` is dropped on purpose: a field the notes do not support must be left out, not invented.
      data: { type: 'object', properties: schema.properties },
      field_sources: {
        type: 'object',
        description: 'For each filled field, the URL of the source that states it.',
        additionalProperties: { type: 'string' },
      },
      confidence_score: { type: 'number', minimum: 0, maximum: 1 },
    },
    required: ['data', 'field_sources', 'confidence_score'],
  };
}

const modelAnswerSchema = z.object({
  data: z.record(z.string(), z.unknown()).default({}),
  field_sources: z.record(z.string(), z.unknown()).default({}),
  confidence_score: z.coerce.number().min(0).max(1).catch(0),
});

const URL_PATTERN = /https?:\/\/[^\s\]\)>"']+/g;

function emptyRecord(): ExtractedRecord {
  return { extracted_data: {}, field_sources: {}, confidence_score: 0 };
}

export async function extract(input: ExtractionInput, model: LanguageModel): Promise<ExtractionOutput> {
  const previous = input.previous ?? emptyRecord();
  if (input.sources && input.sources.length === 0) {
    // Research found nothing this round: nothing new to extract, and no tokens to spend.
    return { ...previous, rejected_fields: [], usage: input.usage };
  }

  const answer = await model.structured({
    system: EXTRACTION_SYSTEM_PROMPT,
    prompt: extractionPrompt(input.company_name, input.research_notes),
    maxTokens: EXTRACTION_MAX_TOKENS,
    toolName: EXTRACTION_TOOL_NAME,
    toolDescription: EXTRACTION_TOOL_DESCRIPTION,
    inputSchema: extractionToolSchema(input.extraction_schema),
  });
  const usage = addModelCall(input.usage, answer.usage);
  const parsed = modelAnswerSchema.safeParse(answer.value);
  if (!parsed.success) {
    return { ...previous, rejected_fields: [{ field: '(answer)', reason: 'the model answered without a data object' }], usage };
  }

  // A source only counts if research actually read it; a URL the model made up is not a source.
  const knownUrls = new Set(input.sources?.map((s) => s.url) ?? input.research_notes.match(URL_PATTERN) ?? []);

  const merged: ExtractedRecord = {
    extracted_data: { ...previous.extracted_data },
    field_sources: { ...previous.field_sources },
    confidence_score: previous.confidence_score,
  };
  const rejected: ExtractionOutput['rejected_fields'] = [];
  let added = 0;
  for (const field of fieldsOf(input.extraction_schema)) {
    const value = parsed.data.data[field.name];
    if (!isFilled(value)) continue;
    const problem = fieldProblem(field, value);
    if (problem) {
      rejected.push({ field: field.name, reason: problem });
      continue;
    }
    // Earlier rounds keep their values: follow-up rounds are there to fill gaps, not to churn answers.
    if (isFilled(merged.extracted_data[field.name])) continue;
    merged.extracted_data[field.name] = value;
    const source = parsed.data.field_sources[field.name];
    if (typeof source === 'string' && knownUrls.has(source)) merged.field_sources[field.name] = source;
    added += 1;
  }

  const previousCount = Object.keys(previous.extracted_data).length;
  if (added > 0) {
    // Confidence of the merged record: the two rounds' confidences, weighted by the fields each contributed.
    merged.confidence_score =
      Math.round(((previous.confidence_score * previousCount + parsed.data.confidence_score * added) / (previousCount + added)) * 100) / 100;
  }
  return { ...merged, rejected_fields: rejected, usage };
}
