/** The assembled files of a job: results.jsonl (one CompanyResult a line) and results.csv (one row a company). */
import type { CompanyResult, ExtractionSchema, ManifestItem } from './contracts';
import { fieldsOf } from './json-schema';

/** Lines up stored results with the manifest; a company with no stored result is reported, not dropped. */
export function matchToManifest(manifest: ManifestItem[], stored: CompanyResult[]): { present: CompanyResult[]; missing: ManifestItem[] } {
  const byIndex = new Map(stored.map((r) => [r.index, r]));
  const present: CompanyResult[] = [];
  const missing: ManifestItem[] = [];
  for (const item of manifest) {
    const result = byIndex.get(item.index);
    if (result) present.push(result);
    else missing.push(item);
  }
  return { present, missing };
}

export function toJsonl(results: CompanyResult[]): string {
  return results.map((r) => JSON.stringify(r)).join('\n') + (results.length ? '\n' : '');
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

export function toCsv(results: CompanyResult[], schema: ExtractionSchema): string {
  const fields = fieldsOf(schema).map((f) => f.name);
  const header = ['index', 'company_name', 'status', 'complete', 'completeness_score', 'confidence_score', 'iterations', ...fields, 'missing_fields', 'failure_reason', 'cost_usd'];
  const rows = results.map((r) => [
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
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
