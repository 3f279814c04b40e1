/**
 * After the map: gathers every company's result into results.jsonl and results.csv.
 * A company whose child execution died before storage ran is recorded here as failed, so none goes missing.
 *
 * It streams: results are read a window at a time in manifest order and written straight into both files as
 * multipart uploads, so memory stays flat whatever the batch size, and every manifest index gets exactly one line.
 * Safe to run again: the files are rewritten whole and an unrecorded company is counted once.
 *
 * It also reconciles the job's counters with the files: a company whose result is stored but whose count was lost
 * (its storage step died between the S3 write and the count) is counted now, as its file says; a failure recorded
 * earlier whose company then completed (a redrive) moves to completed. The job's counters then equal its files.
 */
import { z } from 'zod';
import { extractionSchemaSchema, zeroUsage, type CompanyResult } from '../core/contracts';
import { countedOutcome, failedResult } from '../core/company-result';
import { csvWriter, inManifestOrder, jsonlLine } from '../core/results-files';
import { logger, metrics } from '../shared/observability';
import { jobStore, resultStore } from '../shared/stores';
import { taskHandler } from '../shared/task-handler';
import { jobKeys } from '../core/job-layout';

/** Company results read at once: enough to hide S3's latency, few enough that memory does not depend on the batch. */
const READ_CONCURRENCY = 64;

const assembleInputSchema = z.object({
  job_id: z.string().min(1),
  manifest_key: z.string().min(1),
  extraction_schema: extractionSchemaSchema,
});

export const handler = taskHandler(assembleInputSchema, async ({ job_id, manifest_key, extraction_schema }) => {
  const results = resultStore();
  const jobs = jobStore();
  const manifest = await results.getManifest(manifest_key);
  // One listing, then reads of what exists: an object that is not there is never asked for (without a bucket-wide
  // ListBucket, S3 answers such a read AccessDenied rather than NoSuchKey).
  const stored = new Set(await results.listKeys(jobKeys.resultsPrefix(job_id)));
  const counted = await jobs.countedOutcomes(job_id, manifest.length);

  const jsonl = results.textUpload(jobKeys.jsonl(job_id), 'application/x-ndjson');
  const csv = results.textUpload(jobKeys.csv(job_id), 'text/csv');
  const rows = csvWriter(extraction_schema);
  const written = { completed: 0, failed: 0, not_found: 0, unrecorded: 0, recounted: 0 };
  try {
    await csv.write(rows.header);
    const read = (index: number) => (stored.has(jobKeys.result(job_id, index)) ? results.getCompanyResult(job_id, index) : Promise.resolve(undefined));
    for await (const { item, value } of inManifestOrder(manifest, (entry) => read(entry.index), READ_CONCURRENCY)) {
      let result: CompanyResult | undefined = value;
      if (!result) {
        logger.warn('no result recorded for a company; recording it as failed', { job_id, index: item.index });
        result = failedResult({
          index: item.index,
          companyName: item.company_name,
          domain: item.domain,
          reason: 'no result was recorded for this company: its child execution failed before storage',
          schema: extraction_schema,
          iterations: 0,
          usage: zeroUsage(),
        });
        await results.putCompanyResult(job_id, result);
        written.unrecorded += 1;
      }
      const outcome = countedOutcome(result.status);
      if (counted.get(item.index) !== outcome && (await jobs.countOutcome(job_id, item.index, outcome, new Date(), value ? result.cost.usd : 0))) {
        if (value) {
          logger.warn('a stored result was not counted as it says; counted now', { job_id, index: item.index, was: counted.get(item.index) ?? 'uncounted' });
          written.recounted += 1;
        }
      }
      // not_found counts as completed, as the job's counters count it; how many there were is said beside.
      written[outcome] += 1;
      if (result.status === 'not_found') written.not_found += 1;
      await jsonl.write(jsonlLine(result));
      await csv.write(rows.row(result));
    }
    await Promise.all([jsonl.finish(), csv.finish()]);
  } catch (error) {
    await Promise.all([jsonl.abort(), csv.abort()]);
    throw error;
  }

  metrics.addMetric('CompaniesUnrecorded', 'Count', written.unrecorded);
  metrics.addMetric('CompaniesRecounted', 'Count', written.recounted);
  // What the files hold, for reconciling the job's counters with them.
  return {
    total: manifest.length,
    completed: written.completed,
    failed: written.failed,
    not_found: written.not_found,
    unrecorded: written.unrecorded,
    recounted: written.recounted,
    results_jsonl_key: jobKeys.jsonl(job_id),
    results_csv_key: jobKeys.csv(job_id),
  };
});
