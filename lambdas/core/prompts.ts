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
  const blocks = sources
    .map((s) => `<source id="${s.id}" url="${s.url}" title="${s.title.replace(/"/g, "'")}">\n${s.content}\n</source>`)
    .join('\n');
  return `Company: ${companyName}\n\nSources:\n${blocks}`;
}

/** The citation list the core appends to the notes, so the extraction can map [n] back to a URL. */
export function sourceList(sources: Pick<NumberedSource, 'id' | 'url'>[]): string {
  return sources.map((s) => `[${s.id}] ${s.url}`).join('\n');
}

export const EXTRACTION_TOOL_NAME = 'record_company_data';
export const EXTRACTION_TOOL_DESCRIPTION =
  'Record the fields of the company profile that the research notes support, with the source URL of each.';

export const EXTRACTION_SYSTEM_PROMPT = [
  'You extract structured data about one company from research notes.',
  'Fill a field only when the notes state it; leave it out when they do not. Never guess or use memory.',
  'Convert values to the type the field asks for (numbers without currency signs or separators).',
  'In field_sources give, for every field you fill, the URL of the source cited for it in the notes.',
  'confidence_score is your confidence, from 0 to 1, that the filled fields are right and describe this company;',
  'lower it when sources disagree or may describe a different company.',
].join('\n');

export function extractionPrompt(companyName: string | undefined, notes: string): string {
  return `${companyName ? `Company: ${companyName}\n\n` : ''}Research notes:\n${notes}`;
}
