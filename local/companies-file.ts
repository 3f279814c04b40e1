/**
 * Reads a user's list of companies: one name per line, a CSV with a company column (and optionally `domain`, which
 * pins which company of that name is meant), or a JSON list of names or {company_name, domain} objects. CSV goes
 * through csv-parse, so quoted cells with commas, quotes or line breaks are one cell, as a spreadsheet wrote them.
 */
import { parse } from 'csv-parse/sync';
import type { CompanyInput } from '../lambdas/core/contracts';

const NAME_COLUMNS = ['company_name', 'company', 'name'];
const DOMAIN_COLUMN = 'domain';

/** Rows of a CSV with a header row, as objects keyed by the header's names (trimmed). */
export function parseCsvRecords(text: string, where: string, options: { lowerCaseHeader?: boolean } = {}): Record<string, string>[] {
  try {
    return parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => (options.lowerCaseHeader ? h.trim().toLowerCase() : h.trim())),
      skip_empty_lines: true,
      trim: true,
      // A line starting with # is a note, as in the plain list; a # inside a name is part of it.
      comment: '#',
      comment_no_infix: true,
      relax_column_count: true,
    }) as Record<string, string>[];
  } catch (error) {
    throw new Error(`${where}: not a readable CSV file: ${(error as Error).message}`);
  }
}

/** A JSON list as the API takes it: names, or objects with company_name and an optional domain. */
function readJsonCompanies(text: string, fileName: string): CompanyInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new Error(`${fileName}: not readable JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${fileName}: must hold a JSON list of companies`);
  return parsed.map((item, i) => {
    if (typeof item === 'string') return item;
    const entry = item as { company_name?: unknown; domain?: unknown };
    if (typeof entry?.company_name !== 'string') throw new Error(`${fileName}: item ${i} is neither a name nor an object with a company_name`);
    return typeof entry.domain === 'string' && entry.domain.trim() ? { company_name: entry.company_name, domain: entry.domain.trim() } : entry.company_name;
  });
}

/** Names without a domain stay plain strings, as the API takes them; a domain makes the company an object. */
export function readCompanies(text: string, fileName: string): CompanyInput[] {
  if (fileName.toLowerCase().endsWith('.json')) return readJsonCompanies(text, fileName);
  if (!fileName.toLowerCase().endsWith('.csv')) {
    return text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  }
  const records = parseCsvRecords(text, fileName, { lowerCaseHeader: true });
  if (records.length === 0) return [];
  const column = NAME_COLUMNS.find((c) => c in records[0]!);
  if (!column) throw new Error(`${fileName}: no company column; name one of ${NAME_COLUMNS.join(', ')} in the header row`);
  return records
    .filter((r) => r[column])
    .map((r) => (r[DOMAIN_COLUMN] ? { company_name: r[column]!, domain: r[DOMAIN_COLUMN] } : r[column]!));
}
