/** Every prompt Dossier sends, in one place, so their wording can be reviewed and tuned together. */
import type { SchemaField } from './json-schema';

export interface NumberedSource {
  id: number;
  url: string;
  title: string;
  content: string;
}

export const NOTES_SYSTEM_PROMPT = [
  'You are a company research analyst. You write research notes about one company from web search results.',
  'Use only facts stated in the sources. Ignore sources about a different company with a similar name, and say so.',
  'Write one bullet per fact, in the form "- Label: value [n]", where [n] is the id of the source that states it;',
  'cite every source that states the same fact, e.g. [1][3]. When sources disagree, keep each value on its own line.',
  'Prefer the labels of the fields the user wants. No introduction, no conclusion, no facts from memory.',
].join('\n');

/**
 * The notes call's shared prefix: the instructions and the fields wanted, the same for every company of a job, so
 * the provider can cache it (lambdas/providers/language-model.ts).
 */
export function notesSystem(fields: SchemaField[]): string {
  const wanted = fields.map((f) => `- ${f.name}: ${f.label}`).join('\n');
  return `${NOTES_SYSTEM_PROMPT}\n\nFields wanted:\n${wanted}`;
}

/** The company's own part of the notes call: its name and its sources. */
export function notesPrompt(companyName: string, sources: NumberedSource[]): string {
  return `Company: ${companyName}\n\nSources:\n${sourceBlocks(sources)}`;
}

/** The citation list the core appends to the notes, so the extraction can map [n] back to a URL. */
export function sourceList(sources: Pick<NumberedSource, 'id' | 'url'>[]): string {
  return sources.map((s) => `[${s.id}] ${s.url}`).join('\n');
}

export const EXTRACTION_TOOL_NAME = 'record_company_data';
export const EXTRACTION_TOOL_DESCRIPTION =
  "Record the fields of the company profile the sources state, each with the passages that state it, copied verbatim.";

export const EXTRACTION_SYSTEM_PROMPT = [
  'You extract structured data about one company from web pages that research found, with the research notes as a guide.',
  'For every field give its value, or null when no source states it. Never guess and never use memory: null is a good answer.',
  'For every value give evidence: passages copied word for word from the sources (same words, same order), each with the id',
  'of its source. Each value is checked against the page text: a paraphrased or invented passage drops the value.',
  'Quote the shortest passage that states the value, such as a single line or sentence.',
  'Convert values to the type the field asks for: numbers without currency signs or separators, dates as YYYY-MM-DD,',
  'a year as the year alone, lists cut to the number of items the field allows, objects with the parts the sources state.',
  'When another source states a different value for a field, list it under conflicting, with its passage and its value.',
  'confidence, per field, is how sure you are (0 to 1) that the value is right and describes this company.',
  'Use only sources about this company; a page about another company with a similar name is not evidence.',
].join('\n');

export function sourceBlocks(sources: NumberedSource[]): string {
  return sources
    .map((s) => `<source id="${s.id}" url="${s.url}" title="${s.title.replace(/"/g, "'")}">\n${s.content}\n</source>`)
    .join('\n');
}

export function extractionPrompt(
  companyName: string | undefined,
  notes: string,
  sources: NumberedSource[] = [],
  domain?: string | null,
): string {
  const company = companyName ? `Company: ${companyName}${domain ? ` (its website: ${domain})` : ''}\n\n` : '';
  const pages = sources.length ? `\n\nSources:\n${sourceBlocks(sources)}` : '';
  return `${company}Research notes:\n${notes}${pages}`;
}

/** The one repair round: the same request, with what was wrong with the first answer's values. */
export function repairPrompt(original: string, problems: { field: string; problem: string }[]): string {
  const list = problems.map((p) => `- ${p.field}: ${p.problem}`).join('\n');
  return `${original}\n\nYour previous answer gave values that do not fit their field's schema:\n${list}\nAnswer again for these fields only, with values that fit (or null).`;
}

export const SAME_VALUE_TOOL_NAME = 'judge_values';
export const SAME_VALUE_SYSTEM_PROMPT = [
  'You compare pairs of statements about one field of a company profile, from two different web pages.',
  'For each pair, say whether both give the same value (the same person, place, number or thing, written differently),',
  'or different values. Answer for every pair.',
].join('\n');

export function sameValuePrompt(companyName: string, pairs: { field: string; first: string; second: string }[]): string {
  const list = pairs.map((p, i) => `Pair ${i + 1}\nField: ${p.field}\nFirst: ${p.first}\nSecond: ${p.second}`).join('\n\n');
  return `Company: ${companyName}\n\n${list}`;
}
