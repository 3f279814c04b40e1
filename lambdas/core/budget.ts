/** A batch's spending cap (max_cost_usd): what it has spent against what it may. */

/** A company that was to start after its job's budget was spent: recorded failed, never researched. */
export class BudgetExhausted extends Error {
  override readonly name = 'BudgetExhausted';
}

/**
 * Why a company may not start, or undefined when it may. Spend counts companies already stored, so a cap can be
 * overshot by what the companies running at that moment spend (at most MaxConcurrency of them).
 */
export function budgetExhaustion(job: { max_cost_usd?: number; cost_usd?: number }): string | undefined {
  if (job.max_cost_usd === undefined) return undefined;
  const spent = job.cost_usd ?? 0;
  if (spent < job.max_cost_usd) return undefined;
  return `budget_exhausted: the job has spent $${spent.toFixed(4)} of its max_cost_usd of $${job.max_cost_usd}`;
}
