/** Completeness scoring and follow-up planning, as plain functions (reflection.ts puts them to use). */
import { isFilled, type SchemaField } from './json-schema';

/** Required fields weigh twice as much as optional ones: they decide whether a record is usable at all. */
const REQUIRED_WEIGHT = 2;
const OPTIONAL_WEIGHT = 1;

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

/**
 * One query per field, naming the company and what the field means, never one run before. A contested field that was
 * searched plainly already gets a query for its latest value. With `domain`, queries name the pinned company's site.
 */
export function followUpQueries(
  companyName: string,
  targets: SchemaField[],
  previousQueries: string[],
  limit: number,
  options: { contested?: ReadonlySet<string>; domain?: string | null } = {},
): string[] {
  const seen = new Set(previousQueries.map(normalise));
  const queries: string[] = [];
  const subject = options.domain ? `${companyName} ${options.domain}` : companyName;
  for (const field of targets) {
    const base = `${subject} ${field.label}`;
    const candidates = options.contested?.has(field.name) ? [base, `${base} latest`] : [base];
    const query = candidates.find((q) => !seen.has(normalise(q)));
    if (query === undefined) continue;
    seen.add(normalise(query));
    queries.push(query);
    if (queries.length === limit) break;
  }
  return queries;
}
