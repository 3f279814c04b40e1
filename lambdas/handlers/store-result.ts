/**
 * Storage task: writes one company's result to S3, then counts it in the job's progress; a job of one company
 * (the company machine's) it then closes, since nothing runs after it that could.
 * Safe to run twice for the same company: the object is overwritten with the same content, the count is idempotent,
 * and closing a job repeats harmlessly (a retry also closes a job the first attempt counted but did not close).
 */
import { z } from 'zod';
import {
  extractedRecordSchema,
  extractionSchemaSchema,
  reflectionOutputSchema,
  usageSchema,
  zeroUsage,
} from '../core/contracts';
import { completedResult, countedOutcome, failedResult, failureReason } from '../core/company-result';
import { metrics } from '../shared/observability';
import { closeSingleJob } from '../shared/research-jobs';
import { jobStore, resultStore } from '../shared/stores';
import { taskHandler } from '../shared/task-handler';

const common = {
  job_id: z.string().min(1),
  index: z.number().int().nonnegative(),
  company_name: z.string(),
  domain: z.string().nullish(),
  iterations: z.number().int().nonnegative(),
  usage: usageSchema.default(zeroUsage),
  extraction_schema: extractionSchemaSchema,
};

const storeInputSchema = z.discriminatedUnion('outcome', [
  z.object({ ...common, outcome: z.literal('completed'), record: extractedRecordSchema, reflection: reflectionOutputSchema }),
  z.object({
    ...common,
    outcome: z.literal('failed'),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
    record: extractedRecordSchema.optional(),
  }),
]);

export const handler = taskHandler(storeInputSchema, async (input) => {
  const base = { index: input.index, companyName: input.company_name, domain: input.domain, iterations: input.iterations, usage: input.usage };
  const result =
    input.outcome === 'completed'
      ? completedResult({ ...base, record: input.record, reflection: input.reflection })
      : failedResult({ ...base, reason: failureReason(input.error), schema: input.extraction_schema, record: input.record });

  await resultStore().putCompanyResult(input.job_id, result);
  const outcome = countedOutcome(result.status);
  const counted = await jobStore().countOutcome(input.job_id, input.index, outcome, new Date(), result.cost.usd);
  metrics.addMetric(counted ? (outcome === 'completed' ? 'CompaniesCompleted' : 'CompaniesFailed') : 'DuplicateOutcomes', 'Count', 1);
  if (counted && result.status === 'not_found') metrics.addMetric('CompaniesNotFound', 'Count', 1);
  await closeSingleJob(input.job_id, result, input.extraction_schema);
  // Kept small on purpose: this is what the Distributed Map collects for every company.
  return { index: input.index, status: result.status, counted };
});
