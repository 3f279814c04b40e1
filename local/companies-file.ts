/**
 * Reads a user's list of companies: one name per line, or a CSV with a company column. CSV goes through
 * csv-parse, so quoted cells with commas, quotes or line breaks are one cell, as a spreadsheet wrote them.
 */
import { parse } from 'csv-parse/sync';

const NAME_COLUMNS = ['company_name', 'company', 'name'];

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

export function readCompanies(text: string, fileName: string): string[] {
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
  return records.map((r) => r[column] ?? '').filter(Boolean);
}
