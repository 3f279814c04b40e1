/** Shapes the final record of one company, completed or failed, for results.jsonl. */
import type { CompanyResult, ExtractedRecord, ExtractionSchema, ReflectionOutput, Usage } from './contracts';
import { completenessScore, missingFields } from './completeness';
import { fieldsOf } from './json-schema';
import { BUDGET_EXHAUSTED, BudgetExhausted } from './budget';
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

/** A Lambda error's Cause is JSON with errorType and errorMessage; other causes are kept as they are. */
function parseCause(cause: string): { errorType?: string; errorMessage?: string } | undefined {
  try {
    return JSON.parse(cause) as { errorType?: string; errorMessage?: string };
  } catch {
    return undefined;
  }
}

/** Turns a Step Functions error ({Error, Cause}) into a sentence. */
export function failureReason(error: { Error?: string; Cause?: string }): string {
  const cause = error.Cause ? parseCause(error.Cause) : undefined;
  // A spending cap is an outcome the caller asked for, not a fault: its reason starts with a code to filter on.
  if (error.Error === BudgetExhausted.errorName) return `${BUDGET_EXHAUSTED}: ${cause?.errorMessage ?? 'the job reached its max_cost_usd'}`;
  const name = error.Error ?? 'Error';
  if (!error.Cause) return name;
  if (cause?.errorMessage) return `${cause.errorType ?? name}: ${cause.errorMessage}`;
  return `${name}: ${error.Cause}`;
}
