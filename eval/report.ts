/** The evaluation's printed table, from an EvalReport (eval/scoring.ts). */
import { precisionOf, recallOf, type EvalReport, type ExcerptCounts, type FieldRow, type Tally } from './scoring';

const ratio = (part: number, whole: number) => (whole ? `${(part / whole).toFixed(2)} (${part}/${whole})` : '—');
const precision = (t: Tally) => (precisionOf(t) === null ? '—' : ratio(t.correct, t.given));
const recall = (t: Tally) => (recallOf(t) === null ? '—' : ratio(t.found, t.labelled));
const excerpts = (e: ExcerptCounts) => `${ratio(e.verified, e.checked)}${e.unavailable ? ` +${e.unavailable} unavailable` : ''}`;

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

function fieldLine(row: FieldRow): string[] {
  if (row.nested) return [`  .${row.field.split('.').slice(1).join('.')}`, precision(row), recall(row), '', ''];
  return [row.field, precision(row), recall(row), ratio(row.withEvidence, row.values), excerpts(row.excerpts)];
}

export function formatReport(report: EvalReport, heading: string): string {
  const out: string[] = [heading, ''];
  out.push(
    table(
      ['field', 'precision', 'recall', 'evidence', 'excerpts verified'],
      [...report.fields.map(fieldLine), fieldLine(report.overall)],
    ),
  );
  const n = report.namesakes;
  out.push('');
  out.push(
    `Namesakes: ${n.rightEntity + n.flagged} of ${n.total} detected (stayed with the right company ${n.rightEntity}, flagged in quality_issues ${n.flagged}; ` +
      `took another company's values unflagged ${n.tookOther}${n.empty ? `, no values at all ${n.empty}` : ''})`,
  );
  for (const c of report.companies.filter((c) => c.namesake)) {
    const pin = c.domain ? ` [pinned ${c.domain}]` : ' [not pinned]';
    const contested = c.namesake!.contested.length ? ` (marked contested: ${c.namesake!.contested.join(', ')})` : '';
    const other = c.namesake!.other_urls.length ? `: evidence from ${c.namesake!.other_urls.join(', ')}${contested}` : '';
    out.push(`  ${c.company_name}${pin}: ${c.namesake!.outcome.replace('_', ' ')}${other}`);
  }
  const nf = report.notFound;
  out.push(
    `not_found: ${nf.expectedAndGot} of ${nf.expected} companies without pages were not_found; ` +
      `${nf.unexpected.length ? `wrongly not_found: ${nf.unexpected.join(', ')}` : 'no other company was not_found'} (status right for ${nf.correct} of ${nf.total})`,
  );
  out.push(`Cost: $${report.cost.meanUsd.toFixed(4)} per company on average ($${report.cost.totalUsd.toFixed(4)} for ${report.companies.length})`);
  if (report.unavailableUrls.length) out.push(`Excerpts not checked, page text unavailable: ${report.unavailableUrls.join(', ')}`);

  out.push('', 'By trap (all fields of the companies that carry it):');
  out.push(table(['trap', 'companies', 'precision', 'recall'], report.traps.map((t) => [t.trap, String(t.companies), precision(t.tally), recall(t.tally)])));

  out.push('', 'Per company:');
  out.push(
    table(
      ['#', 'company', 'status', 'completeness', 'precision', 'recall', 'cost'],
      report.companies.map((c) => [
        String(c.index),
        `${c.company_name}${c.domain ? ` (${c.domain})` : ''}`,
        c.status === c.expected_status ? c.status : `${c.status} (expected ${c.expected_status})`,
        c.completeness_score.toFixed(2),
        precision(c),
        recall(c),
        `$${c.cost_usd.toFixed(4)}`,
      ]),
    ),
  );

  if (report.mismatches.length) {
    out.push('', 'Values that differ from the labels:');
    const show = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v));
    for (const m of report.mismatches) out.push(`  ${m.company_name} #${m.index} ${m.field} [${m.kind}]: got ${show(m.given)}, label ${show(m.expected)}`);
  }
  return out.join('\n');
}
