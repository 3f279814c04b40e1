/** Shapes the final record of one company, completed or failed, for results.jsonl. */
import type { CompanyResult, ExtractedRecord, ExtractionSchema, ReflectionOutput, Usage } from './contracts';
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

export function completedResult(args: {
  index: number;
  companyName: string;
  record: ExtractedRecord;
  reflection: ReflectionOutput;
  iterations: number;
  usage: Usage;
}): CompanyResult {
  return {
    index: args.index,
    company_name: args.companyName,
    status: 'completed',
    data: args.record.extracted_data,
    iterations: args.iterations,
    complete: args.reflection.is_complete,
    completeness_score: args.reflection.completeness_score,
    missing_fields: args.reflection.missing_fields,
    confidence_score: args.record.confidence_score,
    sources: args.record.field_sources,
    quality_issues: args.reflection.quality_issues,
    cost: cost(args.usage, args.iterations),
  };
}

/** A failed company keeps whatever earlier rounds found: partial data is still worth returning, marked as such. */
export function failedResult(args: {
  index: number;
  companyName: string;
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
    status: 'failed',
    data,
    iterations: args.iterations,
    complete: false,
    completeness_score: fields.length ? completenessScore(fields, data) : 0,
    missing_fields: missingFields(fields, data).map((f) => f.name),
    confidence_score: args.record?.confidence_score ?? 0,
    sources: args.record?.field_sources ?? {},
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
