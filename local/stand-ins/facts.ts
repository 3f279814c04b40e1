// Pure text helpers behind the Anthropic stand-in's deterministic "model".

export type FactLine = { label: string; value: string; citations: number[] };

/** A minimal view of a JSON Schema property: only what coercion looks at. */
export type PropertySchema = {
  type?: string | string[];
  items?: PropertySchema | PropertySchema[];
  enum?: unknown[];
  format?: string;
  description?: string;
  title?: string;
  anyOf?: PropertySchema[];
  oneOf?: PropertySchema[];
  properties?: Record<string, PropertySchema>;
  maxItems?: number;
  [key: string]: unknown;
};

export type SourceBlock = { id: number; url: string; title: string; content: string };

const ENTITIES: Record<string, string> = { '&quot;': '"', '&apos;': "'", '&#39;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };
const decodeEntities = (text: string) => text.replace(/&(?:quot|apos|#39|lt|gt|amp);/g, (e) => ENTITIES[e] ?? e);

/** Reads `<source id="1" url="…" title="…">…</source>` blocks, in the order they appear. */
export function parseSources(text: string): SourceBlock[] {
  const sources: SourceBlock[] = [];
  for (const m of text.matchAll(/<source\b([^>]*)>([\s\S]*?)<\/source>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? '').matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)) {
      if (a[1] !== undefined && a[2] !== undefined) attrs[a[1].toLowerCase()] = decodeEntities(a[2]);
    }
    const id = Number(attrs.id);
    sources.push({
      // Unnumbered blocks get their position, which is what a reader would cite them by.
      id: Number.isInteger(id) && id > 0 ? id : sources.length + 1,
      url: attrs.url ?? '',
      title: attrs.title ?? '',
      content: m[2] ?? '',
    });
  }
  return sources;
}

const BULLET = /^\s*(?:[-*+•])\s+(.*\S)\s*$/;
const TRAILING_CITATIONS = /\s*((?:\[\s*\d+(?:\s*,\s*\d+)*\s*\]\s*)+)$/;
const LABEL_VALUE = /^([^:\n]{1,80}?)\s*:\s+(.+)$/;

/** Finds `- Label: value [1][3]` lines; anything else (prose, headings, plain bullets) is ignored. */
export function parseFactLines(text: string): FactLine[] {
  const facts: FactLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const bullet = BULLET.exec(line)?.[1];
    if (bullet === undefined) continue;
    // Markdown emphasis often wraps the label ("**Founded:** 2011"); it is not part of the fact.
    let rest = bullet.replace(/\*\*|__/g, '');
    const citations: number[] = [];
    const cites = TRAILING_CITATIONS.exec(rest);
    if (cites?.[1] !== undefined) {
      for (const n of cites[1].match(/\d+/g) ?? []) citations.push(Number(n));
      rest = rest.slice(0, cites.index);
    }
    const m = LABEL_VALUE.exec(rest.trim());
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    const label = m[1].replace(/^[*_\s]+|[*_\s]+$/g, '');
    const value = m[2].trim();
    if (!/[\p{L}\p{N}]/u.test(label) || value.length === 0) continue;
    facts.push({ label, value, citations });
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Field matching

// Words that say nothing about which fact is meant: they may not create a match on their own.
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'of', 'in', 'on', 'at', 'to', 'for', 'by', 'with', 'and', 'or', 'as', 'from',
  'is', 'are', 'was', 'were', 'be', 'it', 'its', 'this', 'that', 'what', 'which', 'who', 'does', 'do',
  'us', 'our', 'we', 'company', 'firm', 'organization', 'organisation', 'business',
  'name', 'number', 'count', 'total', 'amount', 'value', 'main', 'primary', 'key', 'official',
  'current', 'latest', 'year', 'usd', 'dollar', 'one', 'sentence', 'short', 'list', 'approximate',
]);

// Each group is one concept; phrases are matched on stemmed words, longest first.
const SYNONYM_GROUPS: Record<string, string[]> = {
  ceo: ['ceo', 'chief executive', 'chief executive officer'],
  headquarters: ['headquarters', 'headquartered', 'hq', 'head office', 'head quarters', 'based'],
  employees: ['employees', 'employee count', 'headcount', 'head count', 'staff', 'workforce'],
  founded: ['founded', 'founding', 'established', 'year founded', 'founded year', 'founding year', 'inception'],
  funding: ['funding', 'raised', 'capital', 'funds raised', 'total raised'],
  website: ['website', 'web site', 'url', 'homepage', 'home page', 'site'],
  products: ['products', 'services', 'offerings', 'product line'],
  description: ['description', 'about', 'summary', 'overview'],
  industry: ['industry', 'sector'],
};

const PHRASES: { group: string; words: string[] }[] = Object.entries(SYNONYM_GROUPS)
  .flatMap(([group, phrases]) => phrases.map((p) => ({ group, words: stemmedWords(p) })))
  .sort((a, b) => b.words.length - a.words.length);

function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function stemmedWords(text: string): string[] {
  const spaced = text.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  const plain = spaced.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  return (plain.match(/[a-z0-9]+/g) ?? []).map(stem);
}

/** The concepts a text names: synonym groups (as "#group") plus remaining meaningful words. */
function concepts(text: string): Set<string> {
  const words = stemmedWords(text);
  const out = new Set<string>();
  for (let i = 0; i < words.length; ) {
    const phrase = PHRASES.find((p) => p.words.every((w, k) => words[i + k] === w));
    if (phrase) {
      out.add(`#${phrase.group}`);
      i += phrase.words.length;
      continue;
    }
    const word = words[i] ?? '';
    // Bare numbers ("2023" in "Employees (2023)") qualify a label rather than name it.
    if (!STOP_WORDS.has(word) && !/^\d+$/.test(word)) out.add(word);
    i += 1;
  }
  return out;
}

/**
 * Picks the fact label that denotes a schema property, or undefined when none plausibly does.
 * A word shared with the property name counts double; a label matched only through the
 * description must be fully covered by it, so a stray shared word cannot pull in an unrelated fact.
 */
export function matchField(fieldName: string, description: string | undefined, labels: readonly string[]): string | undefined {
  const nameConcepts = concepts(fieldName);
  const descConcepts = concepts(description ?? '');
  let best: { label: string; score: number; coverage: number } | undefined;
  for (const label of labels) {
    const labelConcepts = concepts(label);
    if (labelConcepts.size === 0) continue;
    let nameHits = 0;
    let descHits = 0;
    for (const c of labelConcepts) {
      if (nameConcepts.has(c)) nameHits += 1;
      else if (descConcepts.has(c)) descHits += 1;
    }
    if (nameHits === 0 && descHits < labelConcepts.size) continue;
    const score = nameHits * 2 + descHits;
    const coverage = (nameHits + descHits) / labelConcepts.size;
    // Strictly better only, so the earliest label wins a tie.
    if (!best || score > best.score || (score === best.score && coverage > best.coverage)) {
      best = { label, score, coverage };
    }
  }
  return best?.label;
}

// ---------------------------------------------------------------------------------------------
// Value coercion

const SCALE: Record<string, number> = {
  thousand: 1e3, k: 1e3,
  million: 1e6, mn: 1e6, mm: 1e6, mln: 1e6, m: 1e6,
  billion: 1e9, bn: 1e9, b: 1e9,
  trillion: 1e12, tn: 1e12, t: 1e12,
};
const NUMBER = /(-)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s*(thousand|million|billion|trillion|mln|mn|mm|bn|tn|k|m|b|t)\b)?/i;

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH = `(${MONTHS.map((m) => `${m}|${m.slice(0, 3)}`).join('|')}|sept)\\.?`;
const DAY_MONTH_YEAR = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH}\\s*,?\\s+(\\d{4})\\b`, 'i');
const MONTH_DAY_YEAR = new RegExp(`\\b${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?\\s*,?\\s+(\\d{4})\\b`, 'i');
const MONTH_YEAR = new RegExp(`\\b${MONTH}\\s+(\\d{4})\\b`, 'i');
const monthNumber = (name: string) => MONTHS.findIndex((m) => m.startsWith(name.toLowerCase().replace(/\.$/, '').slice(0, 3))) + 1;

/** A date a text states, as far as it states it: "12 March 1996", "March 12, 1996", "1996-03-12", "March 1996". */
export function parseDate(text: string): { year: number; month?: number; day?: number } | undefined {
  const iso = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(text);
  if (iso) return { year: Number(iso[1]), month: Number(iso[2]), day: Number(iso[3]) };
  const dmy = DAY_MONTH_YEAR.exec(text);
  if (dmy) return { year: Number(dmy[3]), month: monthNumber(dmy[2]!), day: Number(dmy[1]) };
  const mdy = MONTH_DAY_YEAR.exec(text);
  if (mdy) return { year: Number(mdy[3]), month: monthNumber(mdy[1]!), day: Number(mdy[2]) };
  const my = MONTH_YEAR.exec(text);
  if (my) return { year: Number(my[2]), month: monthNumber(my[1]!) };
  return undefined;
}

const pad = (n: number) => String(n).padStart(2, '0');

function parseNumber(text: string, preferYear: boolean): number | undefined {
  const cleaned = text.replace(/\[\d+\]/g, ' ');
  // A date is never a count: the number a reader wants from "12 March 1996" is the year.
  const date = parseDate(cleaned);
  if (date) return date.year;
  if (preferYear) {
    // "12 March 2011" should give the year, not the day, when the property is a year.
    const year = /\b(1[5-9]\d\d|20\d\d|2100)\b/.exec(cleaned)?.[1];
    if (year !== undefined) return Number(year);
  }
  const m = NUMBER.exec(cleaned);
  if (!m || m[2] === undefined) return undefined;
  let n = Number(`${m[2].replace(/,/g, '')}${m[3] !== undefined ? `.${m[3]}` : ''}`);
  if (m[4] !== undefined) n *= SCALE[m[4].toLowerCase()] ?? 1;
  if (m[1] !== undefined) n = -n;
  return Number.isFinite(n) ? n : undefined;
}

/** The schema's one non-null type, looking through `["x","null"]` and anyOf/oneOf wrappers. */
function resolveType(schema: PropertySchema): { type: string | undefined; schema: PropertySchema } {
  const t = schema.type;
  if (typeof t === 'string') return { type: t, schema };
  if (Array.isArray(t)) return { type: t.find((x) => x !== 'null'), schema };
  for (const alt of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    const r = resolveType(alt);
    if (r.type !== undefined && r.type !== 'null') return r;
  }
  if (Array.isArray(schema.enum)) return { type: 'string', schema };
  if (schema.properties) return { type: 'object', schema };
  return { type: undefined, schema };
}

function looksLikeUrl(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(value)) return value;
  // Pages often write bare domains; a uri-format field needs a scheme to validate.
  if (/^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:\/\S*)?$/i.test(value)) return `https://${value}`;
  return undefined;
}

/** The most items a list may hold: `maxItems`, or what a description says ("(at most 10 items)"), as a reader sees it. */
function itemLimit(schema: PropertySchema): number | undefined {
  if (typeof schema.maxItems === 'number') return schema.maxItems;
  const stated = /\bat most (\d+) items\b/i.exec(schema.description ?? '');
  return stated ? Number(stated[1]) : undefined;
}

/** An enum value the text names: exactly, or as a word of it ("Privately held" names "private"). */
function enumValue(text: string, values: unknown[]): unknown {
  const exact = values.find((e) => typeof e === 'string' && e.toLowerCase() === text.toLowerCase());
  if (exact !== undefined) return exact;
  const words = stemmedWords(text);
  return values.find((e) => {
    if (typeof e !== 'string') return false;
    const wanted = stemmedWords(e);
    return wanted.length > 0 && wanted.every((w) => words.some((x) => x === w || (w.length >= 4 && x.length >= 4 && (x.startsWith(w) || w.startsWith(x)))));
  });
}

/**
 * "Aarhus, Denmark" into an object's properties, as a reader would: the parts in order, the last part to the last
 * property when there are more parts than properties ("Boston, Massachusetts, United States" → city, country).
 */
function objectValue(text: string, schema: PropertySchema): Record<string, unknown> | undefined {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return undefined;
  const parts = text.split(/\s*[,;]\s*/).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  const assigned: [string, string][] = [];
  if (parts.length >= properties.length) {
    properties.forEach(([name], i) => assigned.push([name, i === properties.length - 1 ? parts[parts.length - 1]! : parts[i]!]));
  } else {
    parts.forEach((part, i) => assigned.push([properties[i]![0], part]));
  }
  const out: Record<string, unknown> = {};
  for (const [name, part] of assigned) {
    const coerced = coerceValue(part, schema.properties![name] ?? {}, name);
    if (coerced !== undefined) out[name] = coerced;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Converts a fact's text to the property's JSON type; undefined when it cannot honestly be done. `fieldName` is read
 * as a reader reads it: a field called founded_year wants a year whatever its description says.
 */
export function coerceValue(value: string, propertySchema: PropertySchema, fieldName = ''): unknown {
  const { type, schema } = resolveType(propertySchema);
  const text = value.trim();
  if (text.length === 0) return undefined;
  switch (type) {
    case 'integer':
    case 'number': {
      const hint = `${schema.description ?? ''} ${schema.title ?? ''} ${fieldName.replace(/[_-]+/g, ' ')}`;
      const n = parseNumber(text, /\byear\b/i.test(hint));
      if (n === undefined) return undefined;
      return type === 'integer' ? Math.round(n) : n;
    }
    case 'object':
      return objectValue(text, schema);
    case 'boolean': {
      const word = text.toLowerCase().replace(/[.!]+$/, '');
      if (word === 'yes' || word === 'true') return true;
      if (word === 'no' || word === 'false') return false;
      return undefined;
    }
    case 'array': {
      const itemSchema: PropertySchema = (Array.isArray(schema.items) ? schema.items[0] : schema.items) ?? { type: 'string' };
      const items = text
        .split(/[,;]/)
        .map((part) => part.trim().replace(/^(?:and|&)\s+/i, ''))
        .filter((part) => part.length > 0)
        .map((part) => coerceValue(part, itemSchema))
        .filter((item) => item !== undefined);
      // A reader told "at most 10" gives the first ten, not none.
      const limit = itemLimit(schema);
      return items.length > 0 ? (limit !== undefined ? items.slice(0, limit) : items) : undefined;
    }
    case 'string':
    case undefined: {
      if (Array.isArray(schema.enum)) return enumValue(text, schema.enum);
      if (schema.format === 'uri' || schema.format === 'url') return looksLikeUrl(text);
      if (schema.format === 'date' || schema.format === 'date-time') {
        // Only a whole date is one: "March 1996" is not the 1st of March.
        const date = parseDate(text);
        if (!date?.month || !date.day) return undefined;
        const day = `${date.year}-${pad(date.month)}-${pad(date.day)}`;
        return schema.format === 'date' ? day : `${day}T00:00:00Z`;
      }
      return text;
    }
    default:
      // null: a fact is never nothing.
      return undefined;
  }
}
