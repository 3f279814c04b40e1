/**
 * Scoring of an evaluation run: the pipeline's records against labels a person wrote. Plain functions, no AWS:
 * eval/evaluate.ts runs the batch and hands the results here; test/eval/scoring.test.ts checks the rules.
 *
 * Matching a value to its label: numbers equal; strings equal after case and spacing, or judged the same by
 * compareStatements (the rule the pipeline itself uses to tell agreeing statements apart); dates and enum values
 * exactly (compareStatements would call "2014-03-03" and "2014-03-04" the same: both state 2014); objects field by
 * field; lists as sets of items, each label item matched once.
 */
import { z } from 'zod';
import { hostOf, withinDomain } from '../lambdas/core/company-identity';
import type { CompanyResult, ExtractionSchema } from '../lambdas/core/contracts';
import { compareStatements, findExcerpt } from '../lambdas/core/evidence';

export const TRAPS = [
  'namesake', // another company bears the name
  'contradiction', // two sources give different values, undated
  'stale', // an older dated value beside a newer one
  'missing', // at least one field no page states (label null)
  'nested', // the nested headquarters object needs more than splitting on a comma
  'list_over_max', // more items than the schema's maxItems
  'date_in_words', // "12 March 1996"
  'no_pages', // no page is about the company: expected not_found
  'prose_only', // a fact stated only in a sentence, not as a `Label: value` line
] as const;
export type Trap = (typeof TRAPS)[number];

export const labelSchema = z.strictObject({
  company_name: z.string().min(1),
  /** Submitted as the company's pin, as a user would give it. */
  domain: z.string().min(1).optional(),
  expected_status: z.enum(['completed', 'not_found']).default('completed'),
  traps: z.array(z.enum(TRAPS)).default([]),
  /** For a namesake: which company's site the labels describe, and the other companies' sites. */
  namesake: z.strictObject({ entity_domain: z.string().min(1), other_domains: z.array(z.string().min(1)).min(1) }).optional(),
  /** Every field of the schema: its true value, or null when no source states it. */
  expected: z.record(z.string(), z.unknown()),
  note: z.string().optional(),
});
export type Label = z.infer<typeof labelSchema>;

export const labelsFileSchema = z.object({ about: z.string().optional(), companies: z.array(labelSchema).min(1, 'labels must list at least one company') });
export type LabelsFile = z.infer<typeof labelsFileSchema>;

type FieldSchema = { type?: unknown; format?: string; enum?: unknown[]; properties?: Record<string, FieldSchema>; items?: FieldSchema; maxItems?: number };

const kindOf = (schema: FieldSchema): 'object' | 'array' | 'scalar' =>
  schema.properties || schema.type === 'object' ? 'object' : schema.type === 'array' || schema.items ? 'array' : 'scalar';

/** What is wrong with labels for this schema: every company must label exactly the schema's fields. */
export function checkLabels(labels: LabelsFile, schema: ExtractionSchema): string[] {
  const fields = Object.keys(schema.properties);
  const problems: string[] = [];
  labels.companies.forEach((label, i) => {
    const where = `companies[${i}] (${label.company_name})`;
    const missing = fields.filter((f) => !Object.hasOwn(label.expected, f));
    const extra = Object.keys(label.expected).filter((f) => !fields.includes(f));
    if (missing.length) problems.push(`${where}: expected has no value (or null) for ${missing.join(', ')}`);
    if (extra.length) problems.push(`${where}: expected names fields the schema does not have: ${extra.join(', ')}`);
    if (label.traps.includes('namesake') && !label.namesake) problems.push(`${where}: a namesake trap needs "namesake": {entity_domain, other_domains}`);
    if (label.traps.includes('no_pages') && label.expected_status !== 'not_found') problems.push(`${where}: a no_pages trap needs expected_status "not_found"`);
    if (label.expected_status === 'not_found' && Object.values(label.expected).some((v) => v !== null))
      problems.push(`${where}: a company expected not_found can have no expected values`);
  });
  return problems;
}

// ── Matching ────────────────────────────────────────────────────────────────────────────

const isBlank = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
const plain = (text: string) => text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();

/** Whether a value the pipeline gave matches the label's, under the field's schema (when known). */
export function valuesMatch(given: unknown, expected: unknown, schema: FieldSchema = {}): boolean {
  if (isBlank(given) || isBlank(expected)) return isBlank(given) && isBlank(expected);
  if (typeof expected === 'number') {
    const n = typeof given === 'number' ? given : typeof given === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(given) ? Number(given) : NaN;
    return n === expected;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(given)) return false;
    const matched = matchItems(given, expected, schema.items ?? {});
    return matched === expected.length && matched === given.length;
  }
  if (typeof expected === 'object') {
    if (typeof given !== 'object' || Array.isArray(given)) return false;
    const g = given as Record<string, unknown>;
    const x = expected as Record<string, unknown>;
    return [...new Set([...Object.keys(g), ...Object.keys(x)])].every((k) => valuesMatch(g[k], x[k], schema.properties?.[k] ?? {}));
  }
  if (typeof expected === 'boolean') return given === expected;
  if (typeof given !== 'string' || typeof expected !== 'string') return plain(String(given)) === plain(String(expected));
  if (plain(given) === plain(expected)) return true;
  // A date or an enum value is exact: there is no "roughly the same day".
  if (schema.format || schema.enum) return false;
  return compareStatements(given, expected) === 'same';
}

/** How many given items match label items, each label item matched at most once (exact matches first). */
export function matchItems(given: unknown[], expected: unknown[], itemSchema: FieldSchema = {}): number {
  const open = expected.map((_, i) => i);
  const left: unknown[] = [];
  let matched = 0;
  for (const item of given) {
    const at = open.findIndex((i) => !isBlank(item) && plain(JSON.stringify(item)) === plain(JSON.stringify(expected[i])));
    if (at >= 0) {
      open.splice(at, 1);
      matched += 1;
    } else left.push(item);
  }
  for (const item of left) {
    const at = open.findIndex((i) => valuesMatch(item, expected[i], itemSchema));
    if (at >= 0) {
      open.splice(at, 1);
      matched += 1;
    }
  }
  return matched;
}

// ── Excerpts ────────────────────────────────────────────────────────────────────────────

/**
 * The text of the page at a URL: `absent` when there is certainly no such page (offline, the corpus is the whole web),
 * `unavailable` when the page may exist but its text was not kept (it is then not counted either way).
 */
export type SourceText = { kind: 'text'; text: string } | { kind: 'absent' } | { kind: 'unavailable' };
export type SourceLookup = (url: string) => SourceText;

export interface ExcerptCounts {
  /** Excerpts whose page text was at hand. */
  checked: number;
  verified: number;
  /** Checked and not found in the page (or the page does not exist). */
  notVerified: number;
  /** Page text not at hand: neither verified nor refuted. */
  unavailable: number;
}
const noExcerpts = (): ExcerptCounts => ({ checked: 0, verified: 0, notVerified: 0, unavailable: 0 });

// ── The report ──────────────────────────────────────────────────────────────────────────

export interface Tally {
  /** Values (list items) the pipeline gave, and how many of them match the label. */
  given: number;
  correct: number;
  /** Non-null label values (list items, up to maxItems), and how many the pipeline matched. */
  labelled: number;
  found: number;
}
const noTally = (): Tally => ({ given: 0, correct: 0, labelled: 0, found: 0 });
const addTally = (a: Tally, b: Tally): Tally => ({ given: a.given + b.given, correct: a.correct + b.correct, labelled: a.labelled + b.labelled, found: a.found + b.found });
export const precisionOf = (t: Tally): number | null => (t.given ? t.correct / t.given : null);
export const recallOf = (t: Tally): number | null => (t.labelled ? t.found / t.labelled : null);

export interface FieldRow extends Tally {
  /** "ceo", or "headquarters.city" for a property of a nested object. */
  field: string;
  /** Evidence and excerpts belong to top-level fields; nested rows have none of their own. */
  nested: boolean;
  /** Non-null values given, and how many carry at least one evidence entry. */
  values: number;
  withEvidence: number;
  excerpts: ExcerptCounts;
}

export type NamesakeOutcome = 'right_entity' | 'flagged' | 'took_other' | 'empty';

export interface CompanyRow extends Tally {
  index: number;
  company_name: string;
  domain?: string;
  status: string;
  expected_status: string;
  completeness_score: number;
  cost_usd: number;
  traps: Trap[];
  /** For a namesake: what happened, the evidence from the other companies' sites, and which of those fields were marked contested. */
  namesake?: { outcome: NamesakeOutcome; other_urls: string[]; contested: string[] };
}

export interface Mismatch {
  company_name: string;
  index: number;
  field: string;
  given: unknown;
  expected: unknown;
  /** wrong: a value that does not match; missing: no value where the label has one; extra: a value where the label has none. */
  kind: 'wrong' | 'missing' | 'extra';
}

export interface EvalReport {
  fields: FieldRow[];
  overall: FieldRow;
  companies: CompanyRow[];
  traps: { trap: Trap; companies: number; tally: Tally }[];
  namesakes: { total: number; rightEntity: number; flagged: number; tookOther: number; empty: number };
  notFound: { expected: number; expectedAndGot: number; unexpected: string[]; correct: number; total: number };
  cost: { totalUsd: number; meanUsd: number };
  mismatches: Mismatch[];
  /** URLs whose text was not at hand, so their excerpts are not counted either way. */
  unavailableUrls: string[];
}

/**
 * Issues reflection raises when a record may describe another company of the same name. Its low-confidence line
 * ("sources may disagree or describe another company") follows any doubt and names no company: it is not one.
 */
const WRONG_ENTITY_ISSUE = /another company named|also names other companies|different companies named/i;

function tallyValue(given: unknown, expected: unknown, schema: FieldSchema): Tally {
  const t = noTally();
  if (kindOf(schema) === 'array') {
    const g = Array.isArray(given) ? given.filter((i) => !isBlank(i)) : isBlank(given) ? [] : [given];
    const x = Array.isArray(expected) ? expected.filter((i) => !isBlank(i)) : isBlank(expected) ? [] : [expected];
    // A record may hold at most maxItems: finding that many of a longer list is full recall.
    const reachable = Math.min(x.length, schema.maxItems ?? x.length);
    const matched = matchItems(g, x, schema.items ?? {});
    return { given: g.length, correct: matched, labelled: reachable, found: Math.min(matched, reachable) };
  }
  const match = !isBlank(given) && !isBlank(expected) && valuesMatch(given, expected, schema);
  if (!isBlank(given)) {
    t.given = 1;
    t.correct = match ? 1 : 0;
  }
  if (!isBlank(expected)) {
    t.labelled = 1;
    t.found = match ? 1 : 0;
  }
  return t;
}

function mismatchOf(t: Tally, given: unknown, expected: unknown): Mismatch['kind'] | undefined {
  if (t.correct === t.given && t.found === t.labelled) return undefined;
  if (isBlank(expected) || (Array.isArray(expected) && expected.length === 0)) return 'extra';
  if (isBlank(given) || (Array.isArray(given) && given.length === 0)) return 'missing';
  return 'wrong';
}

const isFilled = (v: unknown) => !isBlank(v) && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/**
 * Scores results against labels. `results[i]` answers `labels.companies[i]` (the batch is submitted in label order and
 * a result's `index` is its place in the batch); a label without a result scores as a record with no values.
 */
export function scoreEval(labels: LabelsFile, results: CompanyResult[], schema: ExtractionSchema, lookup: SourceLookup): EvalReport {
  const properties = schema.properties as Record<string, FieldSchema>;
  const rows = new Map<string, FieldRow>();
  const row = (field: string, nested: boolean) => {
    if (!rows.has(field)) rows.set(field, { field, nested, ...noTally(), values: 0, withEvidence: 0, excerpts: noExcerpts() });
    return rows.get(field)!;
  };
  for (const [name, fs] of Object.entries(properties)) {
    row(name, false);
    if (kindOf(fs) === 'object') for (const sub of Object.keys(fs.properties ?? {})) row(`${name}.${sub}`, true);
  }
  const byIndex = new Map(results.map((r) => [r.index, r]));
  const companies: CompanyRow[] = [];
  const mismatches: Mismatch[] = [];
  const unavailable = new Set<string>();

  labels.companies.forEach((label, index) => {
    const result = byIndex.get(index);
    const data = result?.data ?? {};
    let companyTally = noTally();
    for (const [name, fs] of Object.entries(properties)) {
      const given = data[name];
      const expected = label.expected[name];
      const top = row(name, false);
      let tally: Tally;
      if (kindOf(fs) === 'object') {
        // Scored property by property: a record with the right city and the wrong country is half right.
        tally = noTally();
        for (const [sub, subSchema] of Object.entries(fs.properties ?? {})) {
          const g = (given as Record<string, unknown> | undefined)?.[sub];
          const x = (expected as Record<string, unknown> | null | undefined)?.[sub];
          const t = tallyValue(g, x, subSchema);
          Object.assign(row(`${name}.${sub}`, true), addTally(row(`${name}.${sub}`, true), t));
          const kind = mismatchOf(t, g, x);
          if (kind) mismatches.push({ company_name: label.company_name, index, field: `${name}.${sub}`, given: g ?? null, expected: x ?? null, kind });
          tally = addTally(tally, t);
        }
      } else {
        tally = tallyValue(given, expected, fs);
        const kind = mismatchOf(tally, given, expected);
        if (kind) mismatches.push({ company_name: label.company_name, index, field: name, given: given ?? null, expected: expected ?? null, kind });
      }
      Object.assign(top, addTally(top, tally));
      companyTally = addTally(companyTally, tally);

      if (!isFilled(given)) continue;
      top.values += 1;
      const evidence = result?.evidence?.[name] ?? [];
      if (evidence.length > 0) top.withEvidence += 1;
      for (const entry of evidence) {
        const source = lookup(entry.url);
        if (source.kind === 'unavailable') {
          top.excerpts.unavailable += 1;
          unavailable.add(entry.url);
          continue;
        }
        top.excerpts.checked += 1;
        if (source.kind === 'text' && findExcerpt(entry.excerpt, source.text).found) top.excerpts.verified += 1;
        else top.excerpts.notVerified += 1;
      }
    }

    let namesake: CompanyRow['namesake'];
    if (label.namesake) {
      const evidence = Object.entries(result?.evidence ?? {});
      const urls = evidence.flatMap(([, entries]) => entries.map((e) => e.url));
      const isOther = (url: string) => {
        const host = hostOf(url);
        return !!host && label.namesake!.other_domains.some((d) => withinDomain(host, d.toLowerCase()));
      };
      const other = urls.filter(isOther);
      const otherFields = evidence.filter(([, entries]) => entries.some((e) => isOther(e.url))).map(([field]) => field);
      const flagged = (result?.quality_issues ?? []).some((issue) => WRONG_ENTITY_ISSUE.test(issue));
      const outcome: NamesakeOutcome = other.length ? (flagged ? 'flagged' : 'took_other') : urls.length ? 'right_entity' : flagged ? 'flagged' : 'empty';
      namesake = { outcome, other_urls: [...new Set(other)], contested: otherFields.filter((f) => result?.contested_fields.includes(f)) };
    }
    companies.push({
      index,
      company_name: label.company_name,
      ...(label.domain ? { domain: label.domain } : {}),
      status: result?.status ?? 'missing',
      expected_status: label.expected_status,
      completeness_score: result?.completeness_score ?? 0,
      cost_usd: result?.cost.usd ?? 0,
      traps: label.traps,
      ...companyTally,
      ...(namesake ? { namesake } : {}),
    });
  });

  const fields = [...rows.values()];
  const topRows = fields.filter((r) => !r.nested);
  const overall: FieldRow = {
    field: 'all fields',
    nested: false,
    ...topRows.reduce<Tally>((a, r) => addTally(a, r), noTally()),
    values: topRows.reduce((s, r) => s + r.values, 0),
    withEvidence: topRows.reduce((s, r) => s + r.withEvidence, 0),
    excerpts: topRows.reduce<ExcerptCounts>(
      (a, r) => ({ checked: a.checked + r.excerpts.checked, verified: a.verified + r.excerpts.verified, notVerified: a.notVerified + r.excerpts.notVerified, unavailable: a.unavailable + r.excerpts.unavailable }),
      noExcerpts(),
    ),
  };
  const namesakeRows = companies.filter((c) => c.namesake);
  const count = (o: NamesakeOutcome) => namesakeRows.filter((c) => c.namesake!.outcome === o).length;
  const expectedNotFound = companies.filter((c) => c.expected_status === 'not_found');
  const totalUsd = companies.reduce((s, c) => s + c.cost_usd, 0);
  return {
    fields,
    overall,
    companies,
    traps: TRAPS.map((trap) => {
      const withTrap = companies.filter((c) => c.traps.includes(trap));
      return { trap, companies: withTrap.length, tally: withTrap.reduce<Tally>((a, c) => addTally(a, c), noTally()) };
    }).filter((t) => t.companies > 0),
    namesakes: { total: namesakeRows.length, rightEntity: count('right_entity'), flagged: count('flagged'), tookOther: count('took_other'), empty: count('empty') },
    notFound: {
      expected: expectedNotFound.length,
      expectedAndGot: expectedNotFound.filter((c) => c.status === 'not_found').length,
      unexpected: companies.filter((c) => c.expected_status !== 'not_found' && c.status === 'not_found').map((c) => c.company_name),
      correct: companies.filter((c) => (c.status === 'not_found') === (c.expected_status === 'not_found')).length,
      total: companies.length,
    },
    cost: { totalUsd, meanUsd: companies.length ? totalUsd / companies.length : 0 },
    mismatches,
    unavailableUrls: [...unavailable].sort(),
  };
}
