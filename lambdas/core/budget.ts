/**
 * A job's spending cap (max_cost_usd). Before each research round of a company the job's spend so far is compared
 * with the cap; once reached, the company ends failed with reason `budget_exhausted`, counted like any failure.
 * The spend so far is what the companies already stored cost: the ones still in flight have spent too, so a job
 * can overshoot its cap by at most what its companies in flight (the Map's MaxConcurrency) spend.
 */
export const BUDGET_EXHAUSTED = 'budget_exhausted';

/** Thrown by the research step; the chain catches it and records the company as failed (lib/company-research.ts). */
export class BudgetExhausted extends Error {
  static readonly errorName = 'BudgetExhausted';
  override readonly name = BudgetExhausted.errorName;
}

/** Why the job may spend no more, or undefined while it may. A job without a cap never runs out. */
export function budgetProblem(maxCostUsd: number | null | undefined, spentUsd: number): string | undefined {
  if (maxCostUsd === undefined || maxCostUsd === null) return undefined;
  if (spentUsd < maxCostUsd) return undefined;
  return `the job has spent $${spentUsd.toFixed(6)} of its max_cost_usd $${maxCostUsd}`;
}
