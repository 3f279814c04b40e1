/** The assembled files of a job: results.jsonl (one CompanyResult a line) and results.csv (one row a company). */
import type { CompanyResult, ExtractionSchema, ManifestItem } from './contracts';
import { fieldsOf } from './json-schema';

/**
 * Reads one value per manifest item with `read`, at most `concurrency` reads at a time, and yields them in manifest
 * order as soon as each one's turn comes: the memory it takes is bounded by the window, not by the batch.
 * `read` answers undefined for an item with nothing stored.
 */
export async function* inManifestOrder<T>(
  manifest: readonly ManifestItem[],
  read: (item: ManifestItem) => Promise<T | undefined>,
  concurrency: number,
): AsyncGenerator<{ item: ManifestItem; value: T | undefined }> {
  const window: Promise<T | undefined>[] = [];
  let started = 0;
  for (const item of manifest) {
    while (started < manifest.length && window.length < Math.max(1, concurrency)) {
      const reading = read(manifest[started++]!);
      // Awaited in its turn below; until then a rejection must not count as unhandled.
      reading.catch(() => undefined);
      window.push(reading);
    }
    yield { item, value: await window.shift()! };
  }
}

/** results.jsonl, a line at a time: one CompanyResult, newline-terminated. */
export function jsonlLine(result: CompanyResult): string {
  return `${JSON.stringify(result)}\n`;
}

export function toJsonl(results: CompanyResult[]): string {
  return results.map(jsonlLine).join('');
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join('; ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** RFC 4180 quoting, and a leading quote on text a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  let text = cellText(value);
  // Extracted text comes from web pages: whatever a spreadsheet would run as a formula is neutralised.
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text) && !/^[-+]?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The columns of results.csv: fixed ones around the schema's fields. */
function csvColumns(schema: ExtractionSchema) {
  const fields = fieldsOf(schema).map((f) => f.name);
  const header = ['index', 'company_name', 'status', 'complete', 'completeness_score', 'confidence_score', 'iterations', ...fields, 'missing_fields', 'failure_reason', 'cost_usd'];
  return { fields, header };
}

const csvLine = (cells: unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;

/**
 * results.csv a row at a time: `header` is its first line, `row` one company's. Rows use CRLF line ends, as RFC 4180
 * has them.
 */
export function csvWriter(schema: ExtractionSchema): { header: string; row(result: CompanyResult): string } {
  const { fields, header } = csvColumns(schema);
  return {
    header: csvLine(header),
    row: (r) =>
      csvLine([
        r.index,
        r.company_name,
        r.status,
        r.complete,
        r.completeness_score,
        r.confidence_score,
        r.iterations,
        ...fields.map((f) => r.data[f]),
        r.missing_fields,
        r.failure_reason,
        r.cost.usd,
      ]),
  };
}

export function toCsv(results: CompanyResult[], schema: ExtractionSchema): string {
  const csv = csvWriter(schema);
  return csv.header + results.map(csv.row).join('');
}
