/**
 * The reflection step: is the record complete, can it be trusted, and what to search for next.
 *
 * Completeness comes from the schema. Trust comes from reading the evidence: values another source contradicts,
 * values a newer source supersedes, and signs that pages of another company with the same name supplied a value.
 * Rules decide all of it but one case: two statements that share some words and not others ("J. van Heemstede",
 * "Joris van Heemstede") are put to a model, all in one call, and its tokens are added to the company's usage.
 */
import { z } from 'zod';
import type { Conflict, Evidence, ReflectionInput, ReflectionOutput } from './contracts';
import { completenessScore, followUpQueries, missingFields } from './completeness';
import { evidenceEntities, hostOf, mentionsPhrase, namesakePhrases, registrableDomain, withinDomain } from './company-identity';
import { compareStatements, displayValue, numbersIn, yearsIn, type Agreement } from './evidence';
import { fieldsOf, isFilled } from './json-schema';
import { addModelCall } from './usage';
import { SAME_VALUE_SYSTEM_PROMPT, SAME_VALUE_TOOL_NAME, sameValuePrompt } from './prompts';
import { SAME_VALUE_ANSWER } from './structured-output';
import type { LanguageModel } from '../providers/language-model';

/** Below this the record is doubtful: worth saying so in the result. */
const LOW_CONFIDENCE = 0.7;
/** A value another source contradicts is a coin toss until a round settles it. */
const CONTESTED_FIELD_CONFIDENCE = 0.4;
/** A value from another company's pages is almost certainly wrong for this one. */
const WRONG_ENTITY_FIELD_CONFIDENCE = 0.2;
/** A record whose evidence spans several namesakes, or comes from one that is not the company. */
const WRONG_ENTITY_RECORD_CONFIDENCE = 0.3;
/** A record of a name that several companies bear, not pinned to one by the user. */
const AMBIGUOUS_RECORD_CONFIDENCE = 0.5;
/** Judgements asked of the model per reflection, at most: one short call. */
const MAX_JUDGED_PAIRS = 10;
const JUDGEMENT_MAX_TOKENS = 512;

export interface ReflectionDeps {
  /**
   * Asked only when rules cannot tell whether two statements agree (so looked up only then); without it such a pair
   * counts as a disagreement.
   */
  model?: () => Promise<LanguageModel>;
}

const verdictsSchema = z.object({ verdicts: z.array(z.object({ pair: z.coerce.number().int(), same_value: z.boolean() })) });

/** Years a passage dates itself by, leaving out those that are the value itself (a founding year is not a date stamp). */
function dateOf(passages: string[], value: unknown): number | undefined {
  const own = new Set(numbersIn(displayValue(value)));
  const years = passages.flatMap(yearsIn).filter((year) => !own.has(year));
  return years.length ? Math.max(...years) : undefined;
}

const hostList = (urls: string[]) => [...new Set(urls.map((u) => hostOf(u) ?? u))].join(', ');

export async function reflect(input: ReflectionInput, deps: ReflectionDeps = {}): Promise<ReflectionOutput> {
  const fields = fieldsOf(input.extraction_schema);
  const data = input.extracted_data;
  const filled = fields.filter((f) => isFilled(data[f.name]));
  const evidenceOf = (name: string): Evidence[] => input.evidence[name] ?? [];
  const issues: string[] = [];
  let usage = input.usage;

  // Every value must rest on a passage of a source.
  for (const field of filled) {
    if (evidenceOf(field.name).length > 0) continue;
    const url = input.field_sources[field.name];
    issues.push(url ? `${field.name}: cites ${url} but no passage of it confirms the value` : `${field.name}: no source cited`);
  }
  const unverified = input.unverified_fields.filter((name) => !isFilled(data[name]));
  for (const name of unverified) issues.push(`${name}: a value was found but no source passage confirms it, so it was left out`);

  // Contradictions and stale values, from the conflicts extraction confirmed.
  const conflicts = input.conflicts.filter((c) => isFilled(data[c.field]));
  const agreements = conflicts.map((c) => compareStatements(data[c.field], c.value));
  const undecided = conflicts.map((c, i) => ({ conflict: c, i })).filter(({ i }) => agreements[i] === 'undecided');
  if (undecided.length > 0 && deps.model) {
    const judged = undecided.slice(0, MAX_JUDGED_PAIRS);
    const model = await deps.model();
    const reply = await model.structured({
      system: SAME_VALUE_SYSTEM_PROMPT,
      prompt: sameValuePrompt(
        input.company_name,
        judged.map(({ conflict }) => ({ field: conflict.field, first: displayValue(data[conflict.field]), second: conflict.value })),
      ),
      maxTokens: JUDGEMENT_MAX_TOKENS,
      toolName: SAME_VALUE_TOOL_NAME,
      toolDescription: 'Record, for each pair, whether the two statements give the same value.',
      inputSchema: SAME_VALUE_ANSWER,
      format: 'json_schema',
    });
    usage = addModelCall(usage, reply.usage);
    const verdicts = verdictsSchema.safeParse(reply.value);
    for (const verdict of verdicts.success ? verdicts.data.verdicts : []) {
      const pair = judged[verdict.pair - 1];
      if (pair) agreements[pair.i] = verdict.same_value ? 'same' : 'different';
    }
  }
  const contested = new Set<string>();
  conflicts.forEach((conflict: Conflict, i) => {
    const agreement: Agreement = agreements[i]!;
    if (agreement === 'same') return;
    const kept = evidenceOf(conflict.field);
    const keptAt = dateOf(kept.map((e) => e.excerpt), data[conflict.field]);
    const otherAt = dateOf([conflict.excerpt], conflict.value);
    const value = displayValue(data[conflict.field]);
    const where = hostList(kept.map((e) => e.url));
    if (keptAt !== undefined && otherAt !== undefined && keptAt > otherAt) return; // the record holds the newer value
    contested.add(conflict.field);
    if (keptAt !== undefined && otherAt !== undefined) {
      issues.push(`${conflict.field}: ${value} (${where}, as of ${keptAt}) is older than ${conflict.value} (${hostList([conflict.url])}, as of ${otherAt})`);
    } else {
      const doubt = agreement === 'undecided' ? 'may disagree' : 'disagree';
      issues.push(`${conflict.field}: sources ${doubt}: ${value} (${where}) against ${conflict.value} (${hostList([conflict.url])})`);
    }
  });

  // Signs of another company: evidence from a namesake's own site, or passages naming a namesake.
  const identity = input.identity ?? null;
  const wrongEntity = new Map<string, string[]>();
  const settled = identity?.domain ?? null;
  const allUrls = filled.flatMap((f) => evidenceOf(f.name).map((e) => e.url));
  const entities = evidenceEntities(allUrls, input.company_name);
  const fieldsFrom = (entity: string) =>
    filled.filter((f) => evidenceOf(f.name).every((e) => registrableDomain(hostOf(e.url) ?? '') === entity)).map((f) => f.name);
  let blended = false;
  if (settled) {
    for (const entity of entities.keys()) {
      if (withinDomain(entity, settled) || withinDomain(settled, entity)) continue;
      for (const name of fieldsFrom(entity)) wrongEntity.set(name, [...(wrongEntity.get(name) ?? []), entity]);
    }
  } else if (entities.size > 1) {
    blended = true;
    const ranked = [...entities.keys()].sort((a, b) => fieldsFrom(b).length - fieldsFrom(a).length || a.localeCompare(b));
    // Commas, not semicolons, inside an issue: results.csv joins a company's issues with "; ".
    issues.push(
      `the record mixes pages of different companies named ${input.company_name}: ${ranked.map((e) => `${e} (${fieldsFrom(e).join(', ') || 'some passages'})`).join(', ')}: give the company's domain to choose`,
    );
    for (const entity of ranked.slice(1)) for (const name of fieldsFrom(entity)) wrongEntity.set(name, [entity]);
  }
  const phrases = namesakePhrases(identity, input.company_name);
  for (const field of filled) {
    const named = phrases.filter((p) => evidenceOf(field.name).some((e) => mentionsPhrase(e.excerpt, p)));
    if (named.length) wrongEntity.set(field.name, [...(wrongEntity.get(field.name) ?? []), ...named]);
  }
  if (wrongEntity.size > 0 && !blended) {
    const list = [...wrongEntity.entries()].map(([name, from]) => `${name} (${[...new Set(from)].join(', ')})`).join(', ');
    issues.push(`values that seem to describe another company named ${input.company_name}: ${list}`);
  }
  const ambiguous = !!identity && !identity.pinned && identity.other_entities.length > 0;
  if (ambiguous) {
    issues.push(
      `"${input.company_name}" also names other companies (${identity.other_entities.join(', ')}); this record describes ${identity.domain ?? 'one of them'}: give the company's domain to choose`,
    );
  }

  // Confidence after the checks: per field, then the record's as their mean, capped by what is doubtful about it all.
  const fieldConfidence: Record<string, number> = {};
  for (const field of filled) {
    let confidence = input.field_confidence[field.name] ?? input.confidence_score ?? 0;
    if (contested.has(field.name)) confidence = Math.min(confidence, CONTESTED_FIELD_CONFIDENCE);
    if (wrongEntity.has(field.name)) confidence = Math.min(confidence, WRONG_ENTITY_FIELD_CONFIDENCE);
    fieldConfidence[field.name] = confidence;
  }
  let confidence = filled.length ? filled.reduce((sum, f) => sum + fieldConfidence[f.name]!, 0) / filled.length : 0;
  if (wrongEntity.size > 0 || blended) confidence = Math.min(confidence, WRONG_ENTITY_RECORD_CONFIDENCE);
  if (ambiguous) confidence = Math.min(confidence, AMBIGUOUS_RECORD_CONFIDENCE);
  confidence = Math.round(confidence * 100) / 100;
  if (filled.length > 0 && confidence < LOW_CONFIDENCE) {
    issues.push(`low extraction confidence (${confidence}): sources may disagree or describe another company`);
  }

  // Follow-ups for exactly what is missing, unverified or contested; what decides completeness first.
  const missing = missingFields(fields, data);
  // A schema without `required` asks for every field.
  const decides = (name: string) => (fields.some((f) => f.required) ? fields.find((f) => f.name === name)?.required === true : true);
  const contestedFields = fields.filter((f) => contested.has(f.name));
  const unverifiedFirst = (list: typeof missing) => [...list.filter((f) => unverified.includes(f.name)), ...list.filter((f) => !unverified.includes(f.name))];
  const targets = [
    ...unverifiedFirst(missing.filter((f) => decides(f.name))),
    ...contestedFields.filter((f) => decides(f.name)),
    ...unverifiedFirst(missing.filter((f) => !decides(f.name))),
    ...contestedFields.filter((f) => !decides(f.name)),
  ];
  const queryDomain = identity?.pinned ? identity.domain : null;

  return {
    is_complete: !missing.some((f) => decides(f.name)) && !contestedFields.some((f) => decides(f.name)),
    completeness_score: completenessScore(fields, data),
    missing_fields: missing.map((f) => f.name),
    follow_up_queries: followUpQueries(input.company_name, targets, input.previous_queries, input.max_follow_up_queries, { contested, domain: queryDomain }),
    quality_issues: issues,
    unverified_fields: unverified,
    contested_fields: contestedFields.map((f) => f.name),
    confidence_score: confidence,
    field_confidence: fieldConfidence,
    usage,
  };
}
