/**
 * How the stand-in "model" reads sources for the structured answers Dossier asks for, the way a careful model would:
 * every field from the `Label: value` lines of the pages in the prompt, quoted verbatim with the id of the page,
 * converted to the field's type (a nested object from "Aarhus, Denmark", a list cut to the items allowed, a date from
 * "12 March 1996", an enum value from the words of the page), null where no page states the field; a newer dated
 * statement preferred over an older one; other pages' different values listed as conflicting. It also judges
 * whether two statements give the same value. Deterministic: the same prompt gets the same answer.
 */
import { coerceValue, matchField, parseFactLines, parseSources, type PropertySchema, type SourceBlock } from './facts';
import { isRecord } from './faults';

type Json = Record<string, unknown>;

interface Statement {
  sourceId: number;
  label: string;
  value: string;
  /** The line as the page writes it, without its bullet: what is quoted. */
  excerpt: string;
  /** The year the statement is dated by ("Employees (2021): 150", "210 as of 2024"), if any. */
  year?: number;
}

/** A label followed by its value on a line of its own: "Headquarters: Aarhus, Denmark". Short labels only, not prose. */
const PLAIN_FACT = /^\s*([\p{Lu}][^:\n]{0,40}):\s+\S/u;
/** A year in parentheses qualifies a label ("Employees (2021)"): the same fact, dated. */
const DATED_LABEL = /\s*\((?:1[89]|20)\d\d\)\s*/g;

function datedBy(label: string, value: string): number | undefined {
  const inLabel = /\b(1[89]\d\d|20\d\d)\b/.exec(label)?.[1];
  const inValue = /\b(?:as of|in|since)\s+(1[89]\d\d|20\d\d)\b|\((1[89]\d\d|20\d\d)\)/i.exec(value);
  const year = inLabel ?? inValue?.[1] ?? inValue?.[2];
  return year === undefined ? undefined : Number(year);
}

/** Every fact line of every page, with the page it is on. */
function statementsOf(sources: SourceBlock[]): Statement[] {
  const found: Statement[] = [];
  for (const source of sources) {
    for (const line of source.content.split(/\r?\n/)) {
      const bulleted = /^\s*[-*+•]\s+/.test(line);
      if (!bulleted && !PLAIN_FACT.test(line)) continue;
      const [fact] = parseFactLines(bulleted ? line : `- ${line}`);
      if (!fact || (!bulleted && fact.label.split(/\s+/).length > 4)) continue;
      const excerpt = line.replace(/^\s*[-*+•]\s+/, '').replace(/\s*(?:\[\s*\d+\s*\])+\s*$/, '').trim();
      found.push({ sourceId: source.id, label: fact.label, value: fact.value, excerpt, year: datedBy(fact.label, fact.value) });
    }
  }
  return found;
}

/** Without pages in the prompt, the notes are all there is: cited by their first citation (which a check will not find). */
function statementsOfNotes(text: string): Statement[] {
  return parseFactLines(text).map((fact) => ({
    sourceId: fact.citations[0] ?? 0,
    label: fact.label,
    value: fact.value,
    excerpt: `${fact.label}: ${fact.value}`,
    year: datedBy(fact.label, fact.value),
  }));
}

const normalise = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim();
const labelKey = (label: string) => normalise(label.replace(DATED_LABEL, ' '));

/** The schema of a field's value, seen through the nullable wrapper the answer puts around it. */
function valueSchemaOf(wrapper: unknown): PropertySchema {
  const value = isRecord(wrapper) && isRecord(wrapper.properties) && isRecord(wrapper.properties.value) ? wrapper.properties.value : {};
  const alternatives = Array.isArray(value.anyOf) ? value.anyOf.filter((a) => isRecord(a) && a.type !== 'null') : [];
  return (alternatives.length === 1 ? alternatives[0] : value) as PropertySchema;
}

const nullAnswer = () => ({ value: null, evidence: [], confidence: 0, conflicting: [] });

function readFields(userText: string, fieldSchemas: Json): Json {
  const sources = parseSources(userText);
  const statements = sources.length ? statementsOf(sources) : statementsOfNotes(userText);
  const groups = new Map<string, Statement[]>();
  for (const statement of statements) groups.set(labelKey(statement.label), [...(groups.get(labelKey(statement.label)) ?? []), statement]);
  const labels = [...groups.values()].map((g) => g[0]!.label);

  const fields: Json = {};
  for (const [name, wrapper] of Object.entries(fieldSchemas)) {
    const schema = valueSchemaOf(wrapper);
    const description = typeof schema.description === 'string' ? schema.description : typeof schema.title === 'string' ? schema.title : '';
    const label = matchField(name, description, labels);
    const read = (label === undefined ? [] : (groups.get(labelKey(label)) ?? []))
      .map((statement) => ({ statement, value: coerceValue(statement.value, schema, name) }))
      .filter((r) => r.value !== undefined);
    if (read.length === 0) {
      fields[name] = nullAnswer();
      continue;
    }
    // The newest dated statement, when statements are dated; else the best-ranked page's.
    const dated = read.filter((r) => r.statement.year !== undefined);
    const chosen = dated.length ? dated.reduce((a, b) => (b.statement.year! > a.statement.year! ? b : a)) : read[0]!;
    const key = (v: unknown) => normalise(JSON.stringify(v));
    const agreeing = read.filter((r) => key(r.value) === key(chosen.value));
    const seen = new Set<string>();
    const differing = read.filter((r) => key(r.value) !== key(chosen.value) && !seen.has(key(r.value)) && seen.add(key(r.value)));
    fields[name] = {
      value: chosen.value,
      evidence: [chosen, ...agreeing.filter((r) => r !== chosen)].slice(0, 3).map((r) => ({ source_id: r.statement.sourceId, excerpt: r.statement.excerpt })),
      confidence: differing.length ? 0.5 : agreeing.length > 1 ? 0.95 : 0.9,
      conflicting: differing.map((r) => ({ source_id: r.statement.sourceId, excerpt: r.statement.excerpt, value: r.statement.value })),
    };
  }
  return { fields };
}

const wordsOf = (text: string): string[] => [...(text.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '').match(/[\p{L}\p{N}]+/gu) ?? [])];

/** Same value when every word of one statement is a word, or the initial of a word, of the other. */
function sameValue(first: string, second: string): boolean {
  const within = (a: string[], b: string[]) => a.every((w) => b.some((x) => x === w || (w.length === 1 && x.startsWith(w))));
  const [a, b] = [wordsOf(first), wordsOf(second)];
  return within(a, b) || within(b, a);
}

function judgeSameValues(userText: string): Json {
  const verdicts: { pair: number; same_value: boolean }[] = [];
  for (const m of userText.matchAll(/Pair (\d+)\nField: [^\n]*\nFirst: ([^\n]*)\nSecond: ([^\n]*)/g)) {
    verdicts.push({ pair: Number(m[1]), same_value: sameValue(m[2]!, m[3]!) });
  }
  return { verdicts };
}

/**
 * An answer in the requested shape for the schemas Dossier sends (the extraction's `fields`, reflection's
 * `verdicts`), or undefined for any other shape (the caller then tries its older readers).
 */
export function answerStructured(userText: string, schema: unknown): { input: Json } | undefined {
  const properties = isRecord(schema) && isRecord(schema.properties) ? schema.properties : undefined;
  if (!properties) return undefined;
  const fields = properties.fields;
  if (isRecord(fields) && isRecord(fields.properties)) return { input: readFields(userText, fields.properties) };
  if (isRecord(properties.verdicts)) return { input: judgeSameValues(userText) };
  return undefined;
}
