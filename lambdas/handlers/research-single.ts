/**
 * POST /research/single: one company while the caller waits, on the EXPRESS company machine the A2A coordinator
 * uses, as a job of one company (lambdas/shared/research-jobs.ts). 200 with the company's result; when the run
 * cannot finish inside API Gateway's time limit, 202 with the job to poll. The run goes on either way and closes
 * its own job (its storage step writes the results files), so answering early leaves nothing undone.
 */
import { randomUUID } from 'node:crypto';
import { singleResearchRequestSchema } from '../core/contracts';
import { runSettings } from '../core/job-layout';
import { singleResearchUnits } from '../core/quotas';
import { config } from '../shared/config';
import { NO_CALLER, callerOf, httpHandler, json, parseResearchRequest, refusedByQuota } from '../shared/http';
import { reserveResearchUnits } from '../shared/quotas';
import { CompanyRunFailed, CompanyRunStillRunning, researchOneCompany } from '../shared/research-jobs';

/**
 * Time kept back to answer 202 before the function runs out; API Gateway's 29 s also count a cold start's init and
 * the network, which the function's remaining time does not.
 */
const ANSWER_MARGIN_MS = 4_000;

export const handler = httpHandler(async (event, context) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  const parsed = parseResearchRequest(event, singleResearchRequestSchema);
  if ('refused' in parsed) return parsed.refused;
  // Every request is a new job, so always charged; the run starts right after, so nothing is released.
  const reservation = await reserveResearchUnits(caller, singleResearchUnits(runSettings(parsed.request)));
  if (!reservation.granted) return refusedByQuota(reservation.refusal);

  const jobId = randomUUID();
  const statusUrl = `/jobs/${jobId}`;
  // The 200's body is the company's result as results.jsonl holds it; the job it ran as is named in a header.
  const jobHeader = { 'dossier-job-id': jobId };
  const waitMs = Math.min(config.singleResearchDeadlineMs ?? Infinity, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS);
  try {
    const result = await researchOneCompany(parsed.request, jobId, caller, { signal: AbortSignal.timeout(Math.max(0, waitMs)) });
    return json(200, result, jobHeader);
  } catch (error) {
    if (error instanceof CompanyRunStillRunning) {
      return json(202, { job_id: jobId, status: 'RUNNING', status_url: statusUrl }, { ...jobHeader, location: statusUrl });
    }
    // The run itself failed (a provider failing is a 200 with a failed result); the job records the reason too.
    if (error instanceof CompanyRunFailed) return json(502, { error: 'research_failed', message: error.message, job_id: jobId }, jobHeader);
    throw error;
  }
});
