/** Shapes the final record of one company, completed or failed, for results.jsonl. */
import type { CompanyResult, CompanyStatus, ExtractedRecord, ExtractionSchema, ReflectionOutput, Usage } from './contracts';
import { completenessScore, missingFields } from './completeness';
import { fieldsOf } from './json-schema';
import { costOf } from './pricing';
import { tokenTotals } from './usage';

function cost(usage: Usage, iterations: number): CompanyResult['cost'] {
  const tokens = tokenTotals(usage);
  return {
    ...costOf(usage, iterations),
    search_queries: usage.search_queries,
    search_credits: usage.search_credits,
    llm_input_tokens: tokens.input,
    llm_output_tokens: tokens.output,
    llm: usage.llm,
    lambda_gb_seconds: usage.lambda_gb_seconds,
  };
}

/**
 * How a result counts in its job's progress: a company not found finished its research, so it counts as completed,
 * and completed + failed stays the number of companies.
 */
export const countedOutcome = (status: CompanyStatus): 'completed' | 'failed' => (status === 'failed' ? 'failed' : 'completed');

/** The first passage's URL of each field: the `sources` of the earlier format, derived so it cannot disagree. */
function firstSources(record: Pick<ExtractedRecord, 'evidence' | 'field_sources'>, data: Record<string, unknown>): Record<string, string> {
  const derived = Object.entries(record.evidence ?? {})
    .filter(([field, passages]) => field in data && passages[0])
    .map(([field, passages]) => [field, passages[0]!.url]);
  return derived.length ? Object.fromEntries(derived) : (record.field_sources ?? {});
}

/** What was searched for a company with nothing to show, in words. */
function notFoundReason(companyName: string, record: ExtractedRecord, usage: Usage): string {
  const searches = `${usage.search_queries} search${usage.search_queries === 1 ? '' : 'es'}`;
  const pages = record.pages_read ?? 0;
  if (pages === 0) return `not found: no page about ${companyName} in ${searches}`;
  return `not found: ${pages} page${pages === 1 ? '' : 's'} named ${companyName} in ${searches}, and none stated a wanted field in a passage that could be checked`;
}

/**
 * A company whose research ran to the end. With no confirmed value at all it is `not_found`: an answer, not a record
 * (its cost stays: the searches were made).
 */
export function completedResult(args: {
  index: number;
  companyName: string;
  domain?: string | null;
  record: ExtractedRecord;
  reflection: ReflectionOutput;
  iterations: number;
  usage: Usage;
}): CompanyResult {
  const data = args.record.extracted_data;
  const found = Object.keys(data).length > 0;
  return {
    index: args.index,
    company_name: args.companyName,
    ...(args.domain ? { domain: args.domain } : {}),
    status: found ? 'completed' : 'not_found',
    data,
    iterations: args.iterations,
    complete: found && args.reflection.is_complete,
    completeness_score: args.reflection.completeness_score,
    missing_fields: args.reflection.missing_fields,
    // The reflection's judgement of the record (contradictions, identity), not the extraction's first estimate.
    confidence_score: args.reflection.confidence_score ?? args.record.confidence_score,
    sources: firstSources(args.record, data),
    evidence: args.record.evidence ?? {},
    field_confidence: Object.keys(args.reflection.field_confidence ?? {}).length ? args.reflection.field_confidence : (args.record.field_confidence ?? {}),
    unverified_fields: args.reflection.unverified_fields ?? [],
    contested_fields: args.reflection.contested_fields ?? [],
    quality_issues: found ? args.reflection.quality_issues : [notFoundReason(args.companyName, args.record, args.usage), ...args.reflection.quality_issues],
    cost: cost(args.usage, args.iterations),
  };
}

/** A failed company keeps whatever earlier rounds found: partial data is still worth returning, marked as such. */
export function failedResult(args: {
  index: number;
  companyName: string;
  domain?: string | null;
  reason: string;
  schema?: ExtractionSchema;
  record?: ExtractedRecord;
  iterations: number;
  usage: Usage;
}): CompanyResult {
  const data = args.record?.extracted_data ?? {};
  const fields = args.schema ? fieldsOf(args.schema) : [];
  return {
    index: args.index,
    company_name: args.companyName,
    ...(args.domain ? { domain: args.domain } : {}),
    status: 'failed',
    data,
    iterations: args.iterations,
    complete: false,
    completeness_score: fields.length ? completenessScore(fields, data) : 0,
    missing_fields: missingFields(fields, data).map((f) => f.name),
    confidence_score: args.record?.confidence_score ?? 0,
    sources: args.record ? firstSources(args.record, data) : {},
    evidence: args.record?.evidence ?? {},
    field_confidence: args.record?.field_confidence ?? {},
    unverified_fields: args.record?.unverified_fields ?? [],
    contested_fields: [],
    quality_issues: [],
    failure_reason: args.reason,
    cost: cost(args.usage, args.iterations),
  };
}

/**
 * Turns a Step Functions error ({Error, Cause}) into a sentence. A Lambda error's Cause is JSON with
 * errorType and errorMessage; other causes are kept as they are.
 */
export function failureReason(error: { Error?: string; Cause?: string }): string {
  const name = error.Error ?? 'Error';
  if (!error.Cause) return name;
  try {
    const cause = JSON.parse(error.Cause) as { errorType?: string; errorMessage?: string };
    if (cause.errorMessage) return `${cause.errorType ?? name}: ${cause.errorMessage}`;
  } catch {
    // Not JSON: fall through and use the text.
  }
  return `${name}: ${error.Cause}`;
}
