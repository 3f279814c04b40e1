/**
 * The extraction step: ask the model for the schema's fields with the passages that state them, keep only values
 * that are valid against the schema and confirmed by a passage found verbatim in its source, merge with earlier rounds.
 *
 * A value without a confirmed passage is dropped from the record, never kept as if it were sourced; its field is
 * listed in `unverified_fields` so reflection can search for it again.
 */
import { z } from 'zod';
import { emptyRecord, type CompanyIdentity, type Conflict, type Evidence, type ExtractedRecord, type ExtractionInput, type ExtractionOutput, type Source } from './contracts';
import { compareStatements, displayValue, findExcerpt, normaliseForComparison, statedPart } from './evidence';
import { fieldProblem, fieldsOf, isFilled, type SchemaField } from './json-schema';
import { EXTRACTION_SYSTEM_PROMPT, EXTRACTION_TOOL_DESCRIPTION, EXTRACTION_TOOL_NAME, extractionPrompt, repairPrompt, type NumberedSource } from './prompts';
import { addModelCall } from './usage';
import { CONTENT_BUDGET } from './research';
import { trimToBudget, urlKey } from './search-results';
import { extractionAnswer, type AnswerRequest } from './structured-output';
import type { LanguageModel } from '../providers/language-model';

export const EXTRACTION_MAX_TOKENS = 2_048;
/** Passages kept per field: enough to show that sources agree, few enough to read. */
export const MAX_EVIDENCE_PER_FIELD = 3;
/** A model that states no confidence for a field is taken as neither sure nor unsure. */
const DEFAULT_FIELD_CONFIDENCE = 0.5;

const passageSchema = z.object({ source_id: z.coerce.number().int(), excerpt: z.string() });
const fieldAnswerSchema = z.object({
  value: z.unknown().optional(),
  evidence: z.array(passageSchema).catch([]),
  confidence: z.coerce.number().min(0).max(1).catch(DEFAULT_FIELD_CONFIDENCE),
  conflicting: z.array(passageSchema.extend({ value: z.coerce.string() })).catch([]),
});
type FieldAnswer = z.infer<typeof fieldAnswerSchema>;
const answerSchema = z.object({ fields: z.record(z.string(), z.unknown()) });

/** Identity only gains: a domain once settled stays, other companies seen are remembered, exclusions add up. */
export function mergeIdentity(earlier: CompanyIdentity | null | undefined, now: CompanyIdentity | null | undefined): CompanyIdentity | null {
  if (!now) return earlier ?? null;
  if (!earlier) return now;
  return {
    domain: earlier.domain ?? now.domain,
    pinned: earlier.pinned || now.pinned,
    other_entities: [...new Set([...earlier.other_entities, ...now.other_entities])].sort(),
    excluded_pages: Math.max(earlier.excluded_pages, now.excluded_pages),
  };
}

/**
 * What a model's null means in a schema's value: nothing. Optional properties answered null are left out (structured
 * outputs makes every property present), null items are dropped, and a list longer than the field allows is cut, as
 * the prompt asks the model to do.
 */
export function tidyValue(schema: Record<string, unknown>, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = typeof schema.items === 'object' && schema.items !== null && !Array.isArray(schema.items) ? (schema.items as Record<string, unknown>) : {};
    const tidied = value.map((item) => tidyValue(items, item)).filter((item) => item !== undefined);
    return typeof schema.maxItems === 'number' && tidied.length > schema.maxItems ? tidied.slice(0, schema.maxItems) : tidied;
  }
  if (typeof value === 'object') {
    const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => [key, tidyValue(properties[key] ?? {}, item)] as const)
      .filter(([, item]) => item !== undefined);
    return Object.fromEntries(entries);
  }
  return value;
}

type SourceText = Source & { content: string };

/** The pages the model may cite, numbered as research numbered them, shown within research's content budget. */
function citableSources(sources: Source[] | undefined): { shown: NumberedSource[]; byId: Map<number, SourceText> } {
  const byId = new Map<number, SourceText>();
  (sources ?? []).forEach((source, i) => {
    if (typeof source.content === 'string' && source.content.length > 0) byId.set(source.id ?? i + 1, { ...source, content: source.content });
  });
  const shown = trimToBudget(
    [...byId.entries()].map(([id, s]) => ({ id, url: s.url, title: s.title, content: s.content })),
    CONTENT_BUDGET,
  );
  return { shown, byId };
}

/** The passages found verbatim in the sources they name, as the sources write them, with why the others were not. */
function confirmPassages(passages: { source_id: number; excerpt: string }[], byId: Map<number, SourceText>) {
  const found: Evidence[] = [];
  const reasons: string[] = [];
  for (const passage of passages) {
    const source = byId.get(passage.source_id);
    if (!source) {
      reasons.push(`no source ${passage.source_id} with text to check the passage against`);
      continue;
    }
    const check = findExcerpt(passage.excerpt, source.content);
    if (!check.found) {
      reasons.push(check.reason);
      continue;
    }
    const duplicate = found.some((e) => e.url === source.url && normaliseForComparison(e.excerpt) === normaliseForComparison(check.excerpt));
    if (!duplicate) found.push({ url: source.url, title: source.title, excerpt: check.excerpt });
  }
  return { found, reasons };
}

interface Accepted {
  value: unknown;
  evidence: Evidence[];
  confidence: number;
  conflicts: Conflict[];
}

export async function extract(input: ExtractionInput, model: LanguageModel): Promise<ExtractionOutput> {
  const previous: ExtractedRecord = { ...emptyRecord(), ...input.previous };
  const identity = mergeIdentity(previous.identity, input.identity);
  // Nothing new to read, so no tokens to spend: research found nothing this round, or (often, in a follow-up round)
  // only pages an earlier round read, which would cost a call and seconds of the company's path for the same answer.
  const offered = (input.sources ?? []).map((source) => urlKey(source.url));
  const readBefore = new Set(previous.read_pages);
  if (input.sources && offered.every((page) => readBefore.has(page))) {
    return { ...previous, identity, rejected_fields: [], usage: input.usage };
  }
  const readPages = [...new Set([...previous.read_pages, ...offered])];

  const fields = fieldsOf(input.extraction_schema);
  const { shown, byId } = citableSources(input.sources);
  const prompt = extractionPrompt(input.company_name, input.research_notes, shown, identity?.domain);
  let usage = input.usage;
  const ask = async (text: string, answer: AnswerRequest) => {
    const reply = await model.structured({
      system: EXTRACTION_SYSTEM_PROMPT,
      prompt: text,
      maxTokens: EXTRACTION_MAX_TOKENS,
      toolName: EXTRACTION_TOOL_NAME,
      toolDescription: EXTRACTION_TOOL_DESCRIPTION,
      inputSchema: answer.schema,
      format: answer.format,
    });
    usage = addModelCall(usage, reply.usage);
    const parsed = answerSchema.safeParse(reply.value);
    return parsed.success ? parsed.data.fields : undefined;
  };
  const pagesRead = previous.pages_read + (input.sources?.length ?? shown.length);

  const first = await ask(prompt, extractionAnswer(input.extraction_schema));
  if (!first) {
    return {
      ...previous,
      identity,
      pages_read: pagesRead,
      read_pages: readPages,
      rejected_fields: [{ field: '(answer)', reason: 'the model answered without a fields object' }],
      usage,
    };
  }

  // Values valid against the field's schema; the invalid ones are asked for once more, then reported.
  const rejected: ExtractionOutput['rejected_fields'] = [];
  const valid = new Map<string, FieldAnswer>();
  const invalid: { field: SchemaField; problem: string }[] = [];
  const check = (field: SchemaField, raw: unknown): { answer: FieldAnswer; problem?: string } | undefined => {
    const answer = fieldAnswerSchema.safeParse(raw);
    if (!answer.success) return undefined;
    const value = tidyValue(field.schema, answer.data.value);
    if (!isFilled(value)) return undefined;
    return { answer: { ...answer.data, value }, problem: fieldProblem(field, value) };
  };
  for (const field of fields) {
    const checked = check(field, first[field.name]);
    if (!checked) continue;
    if (checked.problem) invalid.push({ field, problem: checked.problem });
    else valid.set(field.name, checked.answer);
  }
  if (invalid.length > 0) {
    const names = invalid.map((i) => i.field.name);
    const again = await ask(
      repairPrompt(prompt, invalid.map((i) => ({ field: i.field.name, problem: i.problem }))),
      extractionAnswer(input.extraction_schema, names),
    );
    for (const { field, problem } of invalid) {
      const checked = check(field, again?.[field.name]);
      if (checked && !checked.problem) valid.set(field.name, checked.answer);
      else rejected.push({ field: field.name, reason: `${checked?.problem ?? problem} (still after one repair)` });
    }
  }

  // Evidence: passages found in their sources that state the value; without one, the value is not kept.
  const accepted = new Map<string, Accepted>();
  const unverified = new Set<string>();
  for (const field of fields) {
    const answer = valid.get(field.name);
    if (!answer) continue;
    const { found, reasons } = confirmPassages(answer.evidence, byId);
    const stated = found.length ? statedPart(answer.value, found.map((e) => e.excerpt)) : undefined;
    const value = stated === undefined ? undefined : tidyValue(field.schema, stated);
    if (!found.length || !isFilled(value) || fieldProblem(field, value)) {
      unverified.add(field.name);
      const why = !found.length ? (reasons.length ? reasons.join('; ') : 'no passage was given') : 'the passages found do not state the value';
      rejected.push({ field: field.name, reason: `not confirmed by a source: ${why}` });
      continue;
    }
    if (JSON.stringify(value) !== JSON.stringify(answer.value)) {
      rejected.push({ field: field.name, reason: `left out what no passage states: ${displayValue(answer.value)} → ${displayValue(value)}` });
    }
    // A conflict counts only if its passage is in its source too: an invented disagreement must not contest a value.
    const conflicts = answer.conflicting.flatMap((c) => confirmPassages([c], byId).found.map((e) => ({ field: field.name, value: c.value, ...e })));
    accepted.set(field.name, { value, evidence: found.slice(0, MAX_EVIDENCE_PER_FIELD), confidence: answer.confidence, conflicts });
  }

  return { ...mergeRound(previous, accepted, unverified, fields), identity, pages_read: pagesRead, read_pages: readPages, rejected_fields: rejected, usage };
}

const conflictKey = (c: Conflict) => `${c.field}\u0000${c.url}\u0000${normaliseForComparison(c.value)}`;

/**
 * Earlier rounds keep their values: follow-up rounds are there to fill gaps, not to churn answers. A later round that
 * states the same value adds its passages; one that states another value is recorded as a conflict for reflection.
 */
function mergeRound(previous: ExtractedRecord, accepted: Map<string, Accepted>, unverified: Set<string>, fields: SchemaField[]): ExtractedRecord {
  const data = { ...previous.extracted_data };
  const evidence = { ...previous.evidence };
  const confidence = { ...previous.field_confidence };
  const conflicts = [...previous.conflicts];
  const seen = new Set(conflicts.map(conflictKey));
  const addConflict = (conflict: Conflict) => {
    if (seen.has(conflictKey(conflict))) return;
    seen.add(conflictKey(conflict));
    conflicts.push(conflict);
  };

  for (const [name, round] of accepted) {
    if (!isFilled(data[name])) {
      data[name] = round.value;
      evidence[name] = round.evidence;
      confidence[name] = round.confidence;
    } else if (compareStatements(data[name], round.value) === 'same') {
      const known = new Set((evidence[name] ?? []).map((e) => e.url));
      evidence[name] = [...(evidence[name] ?? []), ...round.evidence.filter((e) => !known.has(e.url))].slice(0, MAX_EVIDENCE_PER_FIELD);
    } else {
      addConflict({ field: name, value: displayValue(round.value), ...round.evidence[0]! });
    }
    round.conflicts.forEach(addConflict);
  }

  const names = fields.map((f) => f.name).filter((name) => isFilled(data[name]));
  const mean = names.length ? names.reduce((sum, name) => sum + (confidence[name] ?? DEFAULT_FIELD_CONFIDENCE), 0) / names.length : 0;
  return {
    extracted_data: data,
    field_sources: Object.fromEntries(names.filter((n) => evidence[n]?.[0]).map((n) => [n, evidence[n]![0]!.url])),
    // The record's confidence is its fields': one place decides it, and reflection adjusts both for what it finds.
    confidence_score: Math.round(mean * 100) / 100,
    evidence,
    field_confidence: confidence,
    conflicts,
    unverified_fields: [...new Set([...previous.unverified_fields, ...unverified])].filter((name) => !isFilled(data[name])),
    identity: previous.identity,
    pages_read: previous.pages_read,
    read_pages: previous.read_pages,
  };
}
