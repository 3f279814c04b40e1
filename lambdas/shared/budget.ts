/** The spending cap's check, against the job's spend as its progress items count it (lambdas/core/budget.ts). */
import { BudgetExhausted, budgetProblem } from '../core/budget';
import { jobStore } from './stores';

/** Throws BudgetExhausted once the job has spent its cap; a job without a cap is not even read. */
export async function assertWithinBudget(jobId: string, maxCostUsd: number | null | undefined): Promise<void> {
  if (maxCostUsd === undefined || maxCostUsd === null) return;
  const spent = (await jobStore().get(jobId))?.cost_usd ?? 0;
  const problem = budgetProblem(maxCostUsd, spent);
  if (problem) throw new BudgetExhausted(problem);
}
