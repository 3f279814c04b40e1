/**
 * Cost tiers: what a job buys per company. One table; a request names a tier (standard unless it says otherwise)
 * and may override its iteration and query budgets. What each tier costs and finds is measured by
 * `npm run bench:tiers` (README, "Cost").
 */
import type { ModelClass, SearchDepth, Tier } from './contracts';

export interface RunPlan {
  tier: Tier;
  /** Research → extraction → reflection rounds at most. */
  max_iterations: number;
  /** Searches per round at most (the first round's plan, and the follow-ups reflection writes). */
  max_queries: number;
  search_depth: SearchDepth;
  /** The model that writes research notes, and the one that extracts the fields. Reflection uses no model. */
  notes_model: ModelClass;
  extraction_model: ModelClass;
}

export const DEFAULT_TIER: Tier = 'standard';

/**
 * economy: one search (the company with the fields wanted) and one round, the small model throughout.
 * standard: the same first search and, when fields are still missing, a second round with one search aimed at the
 *   first of them; the small model writes the notes (a cited summary of the sources), the large one extracts
 *   (typing, units, conflicting sources).
 * deep: three searches a round, advanced depth (2 credits each), three rounds, the large model throughout.
 * Measured on the example corpus (README, "Cost"): economy ~$0.009 and standard ~$0.018 per company, above
 * the issue's $0.004 and $0.010: one basic Tavily search is $0.005 on its own.
 */
export const TIERS: Record<Tier, Omit<RunPlan, 'tier'>> = {
  economy: { max_iterations: 1, max_queries: 1, search_depth: 'basic', notes_model: 'small', extraction_model: 'small' },
  standard: { max_iterations: 2, max_queries: 1, search_depth: 'basic', notes_model: 'small', extraction_model: 'large' },
  deep: { max_iterations: 3, max_queries: 3, search_depth: 'advanced', notes_model: 'large', extraction_model: 'large' },
};

/** A request's plan: its tier's, with the request's own max_iterations and max_queries where it gives them. */
export function resolvePlan(request: { tier?: Tier; max_iterations?: number; max_queries?: number }): RunPlan {
  const tier = request.tier ?? DEFAULT_TIER;
  return {
    tier,
    ...TIERS[tier],
    ...(request.max_iterations !== undefined ? { max_iterations: request.max_iterations } : {}),
    ...(request.max_queries !== undefined ? { max_queries: request.max_queries } : {}),
  };
}

/** Credits one search costs at a depth (Tavily's billing). */
export const creditsPerSearch = (depth: SearchDepth) => (depth === 'advanced' ? 2 : 1);
