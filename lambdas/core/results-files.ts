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

/** An object in one cell, readably: "city: Aarhus, country: Denmark". */
function objectText(value: Record<string, unknown>): string {
  return Object.entries(value)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? objectText(v as Record<string, unknown>) : String(v))).join('; ');
  if (typeof value === 'object') return objectText(value as Record<string, unknown>);
  return String(value);
}

/** RFC 4180 quoting, and a leading quote on text a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  let text = cellText(value);
  // Extracted text comes from web pages: whatever a spreadsheet would run as a formula is neutralised.
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text) && !/^[-+]?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Dossier's own columns, before and after the user's fields. */
const LEADING_COLUMNS = ['index', 'company_name', 'status', 'complete', 'completeness_score', 'confidence_score', 'iterations'] as const;
const TRAILING_COLUMNS = ['missing_fields', 'failure_reason', 'cost_usd', 'domain', 'unverified_fields', 'contested_fields', 'quality_issues'] as const;

interface DataColumn {
  header: string;
  path: string[];
}

/**
 * One column per user field, and one per property of a field that is an object with known properties, named by its
 * path ("headquarters.city"); lists stay in one cell. A name that is also one of Dossier's columns is prefixed "data.".
 */
export function dataColumns(schema: ExtractionSchema): DataColumn[] {
  const columns: DataColumn[] = [];
  const walk = (property: Record<string, unknown>, path: string[]) => {
    const properties = property.properties;
    const isObject = property.type === 'object' || (Array.isArray(property.type) && property.type.includes('object')) || properties !== undefined;
    if (isObject && typeof properties === 'object' && properties !== null && Object.keys(properties).length > 0) {
      for (const [name, sub] of Object.entries(properties as Record<string, Record<string, unknown>>)) walk(sub ?? {}, [...path, name]);
      return;
    }
    columns.push({ header: path.join('.'), path });
  };
  for (const field of fieldsOf(schema)) walk(field.schema, [field.name]);
  const reserved = new Set<string>([...LEADING_COLUMNS, ...TRAILING_COLUMNS]);
  return columns.map((column) => (reserved.has(column.header) ? { ...column, header: `data.${column.header}` } : column));
}

function valueAt(data: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const csvLine = (cells: unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;

/**
 * results.csv a row at a time: `header` is its first line, `row` one company's. Rows use CRLF line ends, as RFC 4180
 * has them.
 */
export function csvWriter(schema: ExtractionSchema): { header: string; row(result: CompanyResult): string } {
  const columns = dataColumns(schema);
  return {
    header: csvLine([...LEADING_COLUMNS, ...columns.map((c) => c.header), ...TRAILING_COLUMNS]),
    row: (r) =>
      csvLine([
        r.index,
        r.company_name,
        r.status,
        r.complete,
        r.completeness_score,
        r.confidence_score,
        r.iterations,
        ...columns.map((c) => valueAt(r.data, c.path)),
        r.missing_fields,
        r.failure_reason,
        r.cost.usd,
        r.domain,
        r.unverified_fields,
        r.contested_fields,
        r.quality_issues,
      ]),
  };
}

export function toCsv(results: CompanyResult[], schema: ExtractionSchema): string {
  const csv = csvWriter(schema);
  return csv.header + results.map(csv.row).join('');
}
