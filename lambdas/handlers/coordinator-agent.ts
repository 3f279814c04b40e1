/**
 * The coordinator agent, at its streaming function URL.
 *   research_company    one company, through the EXPRESS per-company machine (the batch's own steps); streams
 *                       working → the result as an artifact → completed.
 *   research_companies  a batch job on the STANDARD coordinator machine (the same path as POST /research/batch);
 *                       the task stays working, follows the job, and completes with where the results are.
 */
import type { BatchRequest, SingleResearchRequest } from '../core/contracts';
import { coordinatorAgent } from '../a2a/agent-catalog';
import { JobFollowingTaskStore, type JobAccess } from '../a2a/job-tasks';
import { InputProblem } from '../a2a/skill-executor';
import { lambdaA2aAgent } from '../shared/a2a-runtime';
import { runSettings } from '../core/job-layout';
import { singleResearchUnits } from '../core/quotas';
import { config } from '../shared/config';
import { reserveResearchUnits } from '../shared/quotas';
import { streamingFunctionUrlHandler } from '../shared/function-url';
import { cancelJob, researchOneCompany, jobView, startBatchJob } from '../shared/research-jobs';
import { jobStore } from '../shared/stores';

export const jobAccess: JobAccess = {
  async view(jobId) {
    const job = await jobStore().get(jobId);
    return job && jobView(job, config.bucketName);
  },
  async cancel(jobId, reason) {
    // The task store checked the owner; a job that already ended stays as it ended.
    await cancelJob(jobId, reason);
  },
};

const [single, batch] = coordinatorAgent.skills as [typeof coordinatorAgent.skills[0], typeof coordinatorAgent.skills[1]];

const agent = lambdaA2aAgent(
  coordinatorAgent,
  () => [
    {
      contract: single,
      async run(input: SingleResearchRequest, { taskId, caller, progress }) {
        // Charged like POST /research/single: the A2A door is not a way around a client's daily budget.
        const plan = runSettings(input);
        const reservation = await reserveResearchUnits(caller, singleResearchUnits(plan));
        if (!reservation.granted) throw new InputProblem(reservation.refusal.message);
        progress(`researching ${input.company_name} (${plan.tier}): research → extraction → reflection, up to ${plan.max_iterations} rounds`);
        // The task's id names the job of one company, so GET /jobs/{id} finds it too.
        return { kind: 'completed', output: await researchOneCompany(input, taskId, caller) };
      },
    },
    {
      contract: batch,
      async run(input: BatchRequest, { taskId, caller }) {
        const outcome = await startBatchJob(input, taskId, { resumable: false, submittedBy: caller, chargeUnitsTo: caller });
        if (outcome.kind === 'invalid_callback_url') throw new InputProblem(outcome.problem);
        if (outcome.kind === 'quota_exceeded') throw new InputProblem(outcome.refusal.message);
        if (outcome.kind !== 'started') throw new Error(`the batch could not be started (${outcome.kind})`);
        return {
          kind: 'working',
          message: `job ${taskId} started: ${input.companies.length} companies`,
          metadata: { job_id: taskId, status_url: `/jobs/${taskId}` },
        };
      },
    },
  ],
  (store) => new JobFollowingTaskStore(store, jobAccess),
);

export const handler = streamingFunctionUrlHandler(agent);
