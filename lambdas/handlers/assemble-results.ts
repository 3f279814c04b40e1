/**
 * After the map: gathers every company's result into results.jsonl and results.csv.
 * A company whose child execution died before storage ran is recorded here as failed, so none goes missing.
 */
import { z } from 'zod';
import { extractionSchemaSchema, zeroUsage } from '../core/contracts';
import { failedResult } from '../core/company-result';
import { matchToManifest, toCsv, toJsonl } from '../core/results-files';
import { logger, metrics } from '../shared/observability';
import { jobStore, resultStore } from '../shared/stores';
import { taskHandler } from '../shared/task-handler';
import { jobKeys } from '../core/job-layout';

const assembleInputSchema = z.object({
  job_id: z.string().min(1),
  manifest_key: z.string().min(1),
  extraction_schema: extractionSchemaSchema,
});

export const handler = taskHandler(assembleInputSchema, async ({ job_id, manifest_key, extraction_schema }) => {
  const results = resultStore();
  const jobs = jobStore();
  const manifest = await results.getManifest(manifest_key);
  const { present, missing } = matchToManifest(manifest, await results.listCompanyResults(job_id));

  for (const item of missing) {
    logger.warn('no result recorded for a company; recording it as failed', { job_id, index: item.index });
    const result = failedResult({
      index: item.index,
      companyName: item.company_name,
      reason: 'no result was recorded for this company: its child execution failed before storage',
      schema: extraction_schema,
      iterations: 0,
      usage: zeroUsage(),
    });
    await results.putCompanyResult(job_id, result);
    await jobs.countOutcome(job_id, item.index, 'failed', new Date());
    present.push(result);
  }
  present.sort((a, b) => a.index - b.index);

  await results.putText(jobKeys.jsonl(job_id), toJsonl(present), 'application/x-ndjson');
  await results.putText(jobKeys.csv(job_id), toCsv(present, extraction_schema), 'text/csv');
  const completed = present.filter((r) => r.status === 'completed').length;
  metrics.addMetric('CompaniesUnrecorded', 'Count', missing.length);
  return {
    total: manifest.length,
    completed,
    failed: present.length - completed,
    results_jsonl_key: jobKeys.jsonl(job_id),
    results_csv_key: jobKeys.csv(job_id),
  };
});
