/**
 * Evidence checks: is a quoted passage really in its source, does it state the value it is quoted for, and do two
 * stated values agree. Models paraphrase when asked to quote; a value is presented as sourced only when the passage
 * is found in the page text itself, after the differences a copy may innocently introduce (case, spacing, typographic
 * quotes and dashes, Markdown emphasis) are set aside.
 */

/** Shorter passages match by accident ("2011" is in many pages); longer ones are not quotes but copies. */
export const MIN_EXCERPT_CHARS = 8;
export const MAX_EXCERPT_CHARS = 600;

const QUOTES: Record<string, string> = { '‘': "'", '’': "'", '‚': "'", '‛': "'", '“': '"', '”': '"', '„': '"', '«': '"', '»': '"' };
const DASHES = /[‐‑‒–—―−]/;
const EMPHASIS = /[*_`]/;

/**
 * The text as compared, with where each of its characters came from in the original: `starts[i]` is the index in
 * the original of the character that produced compared character i, `ends[i]` the index just after it.
 */
function comparable(text: string): { text: string; starts: number[]; ends: number[] } {
  let out = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let index = 0;
  for (const char of text) {
    const from = index;
    index += char.length;
    if (EMPHASIS.test(char)) continue;
    let normal = char.normalize('NFKC').toLowerCase();
    normal = QUOTES[normal] ?? (DASHES.test(normal) ? '-' : normal);
    for (const c of normal) {
      if (/\s/.test(c)) {
        if (out.length === 0 || out.endsWith(' ')) continue;
        out += ' ';
      } else {
        out += c;
      }
      starts.push(from);
      ends.push(index);
    }
  }
  return { text: out, starts, ends };
}

/** Case, spacing, typographic quotes and dashes, and Markdown emphasis set aside. */
export const normaliseForComparison = (text: string) => comparable(text).text.trim();

export type ExcerptCheck = { found: true; excerpt: string } | { found: false; reason: string };

const clip = (text: string, max = 80) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * Finds a quoted passage in a source text. When found, the passage is given back as the source writes it, so what
 * is stored is verbatim even where the quote differed in case or spacing.
 */
export function findExcerpt(quote: string, sourceText: string): ExcerptCheck {
  const whole = normaliseForComparison(quote);
  // Quotation marks around the whole quote, and an ellipsis at either end, may not be part of the passage.
  const bare = whole
    .replace(/^["']+|["']+$/g, '')
    .replace(/^(?:\.\.\.|…)\s*|\s*(?:\.\.\.|…)$/g, '')
    .trim();
  if (bare.length < MIN_EXCERPT_CHARS) return { found: false, reason: `the passage "${quote}" is too short to identify` };
  if (whole.length > MAX_EXCERPT_CHARS) return { found: false, reason: `the passage is longer than ${MAX_EXCERPT_CHARS} characters` };
  const source = comparable(sourceText);
  const wanted = source.text.includes(whole) ? whole : bare;
  const at = source.text.indexOf(wanted);
  if (at < 0) return { found: false, reason: `the passage "${clip(quote)}" is not in the source` };
  let start = source.starts[at]!;
  let end = source.ends[at + wanted.length - 1]!;
  // Emphasis marks are skipped when comparing: take those that open or close the passage along with it.
  while (start > 0 && EMPHASIS.test(sourceText[start - 1]!)) start -= 1;
  while (end < sourceText.length && EMPHASIS.test(sourceText[end]!)) end += 1;
  return { found: true, excerpt: sourceText.slice(start, end) };
}

// ── Does a passage state the value? ─────────────────────────────────────────────────────

/** Words that say nothing about which value is meant. */
const FILLER = new Set(['a', 'an', 'the', 'of', 'and', 'or', 'in', 'on', 'at', 'to', 'for', 'by', 'with', 'is', 'its', 'inc', 'ltd', 'llc']);

const plainWords = (text: string) =>
  text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

const SCALES: Record<string, number> = {
  thousand: 1e3, k: 1e3, million: 1e6, mn: 1e6, mm: 1e6, mln: 1e6, m: 1e6,
  billion: 1e9, bn: 1e9, b: 1e9, trillion: 1e12, tn: 1e12,
};
const NUMBER = /(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s*(thousand|million|billion|trillion|mln|mn|mm|bn|tn|k|m|b)\b)?/gi;

/** Every number a text states, with its scale words applied ("$1.2 billion" → 1.2e9) and also without them. */
export function numbersIn(text: string): number[] {
  const found: number[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const base = Number(`${m[1]!.replace(/,/g, '')}${m[2] !== undefined ? `.${m[2]}` : ''}`);
    if (!Number.isFinite(base)) continue;
    found.push(base);
    if (m[3]) found.push(base * (SCALES[m[3].toLowerCase()] ?? 1));
  }
  return found;
}

/** Four-digit years (1800–2100) a text names. */
export function yearsIn(text: string): number[] {
  return [...text.matchAll(/\b(1[89]\d\d|20\d\d|2100)\b/g)].map((m) => Number(m[1]));
}

/** Equal but for floating-point noise ("1.2 billion" computed as 1.2 × 1e9). */
const closeTo = (a: number, b: number) => Math.abs(a - b) <= Math.abs(b) * 1e-9;

/** Whether a word of the value is one of the passage's: the same word, or one a prefix of the other ("private", "privately"). */
function wordIn(word: string, passage: Set<string>): boolean {
  if (passage.has(word)) return true;
  if (word.length < 4) return false;
  for (const w of passage) if (w.length >= 4 && (w.startsWith(word) || word.startsWith(w))) return true;
  return false;
}

const ISO_DATE = /^(\d{4})-(\d{2})(?:-(\d{2}))?/;

/** A text value is stated when enough of its words are the passage's; a long one (a summary) may reword more. */
function statesText(value: string, passage: string): boolean {
  const date = ISO_DATE.exec(value);
  if (date) {
    // "1996-03-12" is stated by "12 March 1996": the year and the day must be there.
    const numbers = numbersIn(passage);
    return numbers.includes(Number(date[1])) && (date[3] === undefined || numbers.includes(Number(date[3])));
  }
  const valueWords = plainWords(value).filter((w) => !FILLER.has(w));
  if (valueWords.length === 0) return true;
  const passageWords = new Set(plainWords(passage));
  const hits = valueWords.filter((w) => wordIn(w, passageWords)).length;
  const needed = valueWords.length <= 2 ? valueWords.length : Math.ceil(valueWords.length * (valueWords.length > 8 ? 0.4 : 0.6));
  return hits >= needed;
}

/**
 * The part of a value the passages state: a list keeps the items they name, an object the properties they state,
 * a scalar is kept or not. Undefined when they state none of it. A boolean cannot be checked word by word: a passage
 * found in the source is taken as stating it.
 */
export function statedPart(value: unknown, passages: string[]): unknown {
  if (value === null || value === undefined) return undefined;
  const joined = passages.join('\n');
  if (typeof value === 'boolean') return passages.length ? value : undefined;
  if (typeof value === 'number') return numbersIn(joined).some((n) => closeTo(n, value)) ? value : undefined;
  if (typeof value === 'string') return statesText(value, joined) ? value : undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => statedPart(item, passages)).filter((item) => item !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => [key, statedPart(item, passages)] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return undefined;
}

// ── Do two values agree? ────────────────────────────────────────────────────────────────

/** A value as a reader would write it in a sentence. */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(displayValue).join(', ');
  if (typeof value === 'object') return Object.values(value as Record<string, unknown>).map(displayValue).filter(Boolean).join(', ');
  return String(value);
}

export type Agreement = 'same' | 'different' | 'undecided';

/**
 * Whether two statements of a field agree, by rules: equal numbers are the same; texts whose words are equal, or
 * one's all within the other's ("Rotterdam" and "Rotterdam, Netherlands"), agree; texts with no word in common differ.
 * Texts that share some words but not all ("J. van Heemstede", "Joris van Heemstede") are undecided: only a reader
 * can tell.
 */
export function compareStatements(a: unknown, b: unknown): Agreement {
  const left = displayValue(a);
  const right = displayValue(b);
  const leftWords = plainWords(left).filter((w) => !FILLER.has(w));
  const rightWords = plainWords(right).filter((w) => !FILLER.has(w));
  const numeric = (list: string[]) => list.length > 0 && list.every((w) => /^\d+$/.test(w) || w in SCALES || /^(usd|eur|gbp|us|dollars?)$/.test(w));
  if (numeric(leftWords) && numeric(rightWords)) {
    // Compared on the largest number each states ("USD 140,000,000" and "$140 million" are both 1.4e8).
    const l = Math.max(...numbersIn(left));
    const r = Math.max(...numbersIn(right));
    return closeTo(l, r) ? 'same' : 'different';
  }
  const l = new Set(leftWords);
  const r = new Set(rightWords);
  const shared = [...l].filter((w) => r.has(w)).length;
  if (shared === l.size || shared === r.size) return 'same';
  if (shared === 0) return 'different';
  return 'undecided';
}

// ── Coverage ────────────────────────────────────────────────────────────────────────────

/** How many of the results' non-null top-level values carry evidence: what the demo and an evaluation report. */
export function evidenceCoverage(results: { company_name: string; data: Record<string, unknown>; evidence?: Record<string, unknown[]> }[]): {
  values: number;
  withEvidence: number;
  without: string[];
} {
  let values = 0;
  let withEvidence = 0;
  const without: string[] = [];
  for (const result of results) {
    for (const [field, value] of Object.entries(result.data)) {
      if (value === null || value === undefined) continue;
      values += 1;
      if ((result.evidence?.[field]?.length ?? 0) > 0) withEvidence += 1;
      else without.push(`${result.company_name}.${field}`);
    }
  }
  return { values, withEvidence, without };
}
