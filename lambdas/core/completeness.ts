/** Completeness scoring and follow-up planning: the reflection agent's judgement, as plain functions. */
import type { ReflectionInput, ReflectionOutput } from './contracts';
import { fieldsOf, isFilled, type SchemaField } from './json-schema';

/** Required fields weigh twice as much as optional ones: they decide whether a record is usable at all. */
const REQUIRED_WEIGHT = 2;
const OPTIONAL_WEIGHT = 1;
/** Below this the extraction itself doubted its answer: worth saying so in the result. */
const LOW_CONFIDENCE = 0.7;

export function completenessScore(fields: SchemaField[], data: Record<string, unknown>): number {
  let total = 0;
  let filled = 0;
  for (const field of fields) {
    const weight = field.required ? REQUIRED_WEIGHT : OPTIONAL_WEIGHT;
    total += weight;
    if (isFilled(data[field.name])) filled += weight;
  }
  return total === 0 ? 1 : Math.round((filled / total) * 1000) / 1000;
}

/** Required gaps first: they decide completeness, so they get the follow-up queries first. */
export function missingFields(fields: SchemaField[], data: Record<string, unknown>): SchemaField[] {
  const missing = fields.filter((f) => !isFilled(data[f.name]));
  return [...missing.filter((f) => f.required), ...missing.filter((f) => !f.required)];
}

const normalise = (query: string) => query.toLowerCase().replace(/\s+/g, ' ').trim();

export function followUpQueries(
  companyName: string,
  missing: SchemaField[],
  previousQueries: string[],
  limit: number,
): string[] {
  const seen = new Set(previousQueries.map(normalise));
  const queries: string[] = [];
  for (const field of missing) {
    const query = `${companyName} ${field.label}`;
    if (seen.has(normalise(query))) continue;
    seen.add(normalise(query));
    queries.push(query);
    if (queries.length === limit) break;
  }
  return queries;
}

export function reflect(input: ReflectionInput): ReflectionOutput {
  const fields = fieldsOf(input.extraction_schema);
  const data = input.extracted_data;
  const missing = missingFields(fields, data);
  // A schema without `required` asks for every field.
  const decisive = fields.some((f) => f.required) ? missing.filter((f) => f.required) : missing;

  const qualityIssues: string[] = [];
  for (const field of fields) {
    if (isFilled(data[field.name]) && !input.field_sources[field.name]) {
      qualityIssues.push(`${field.name}: no source cited`);
    }
  }
  if (input.confidence_score !== undefined && input.confidence_score < LOW_CONFIDENCE && Object.keys(data).length > 0) {
    qualityIssues.push(`low extraction confidence (${input.confidence_score}): sources may disagree or describe another company`);
  }

  return {
    is_complete: decisive.length === 0,
    completeness_score: completenessScore(fields, data),
    missing_fields: missing.map((f) => f.name),
    follow_up_queries: followUpQueries(input.company_name, missing, input.previous_queries, input.max_follow_up_queries),
    quality_issues: qualityIssues,
  };
}
