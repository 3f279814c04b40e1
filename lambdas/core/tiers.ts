/**
 * Cost tiers: what a job buys per company. One table; a request names a tier (standard unless it says otherwise)
 * and may override its iteration and query budgets. What each tier costs and finds is measured by
 * `npm run bench:tiers` (README, "Cost").
 */
import type { ModelClass, NotesModel, SearchDepth, Tier } from './contracts';

export interface RunPlan {
  tier: Tier;
  /** Research → extraction → reflection rounds at most. */
  max_iterations: number;
  /** Searches per round at most (the first round's plan, and the follow-ups reflection writes). */
  max_queries: number;
  search_depth: SearchDepth;
  /** The model that writes research notes, and the one that extracts the fields. Reflection uses no model. */
  notes_model: NotesModel;
  extraction_model: ModelClass;
  /** The first round reads the company's own site instead of searching when its domain is given (no credits). */
  read_site: boolean;
}

export const DEFAULT_TIER: Tier = 'standard';

/**
 * economy: one round. A company given with its domain has its own site read (the home page and the three pages its
 *   links promise most for the wanted fields): no search credits, so no search's price. Without a domain, or when
 *   the site gives nothing to read, one search (the company with the fields wanted). No notes call; the small model
 *   extracts from the pages.
 * standard: the same first search and, when fields are still missing, a second round with one search aimed at the
 *   first of them; no notes call, the small model extracts.
 * deep: three searches a round, advanced depth (2 credits each), three rounds; the large model writes notes (a cited
 *   summary of the sources) and extracts.
 * Why the small model extracts below deep: every value must come with a passage found verbatim in its page
 * (lambdas/core/evidence.ts), so a value the smaller model gets wrong or invents is dropped, not stored: its risk
 * is a missing value (recall, measured by `npm run eval` with real keys), not a wrong one. And since extraction reads
 * the pages itself, a notes call reads them a second time for little. Measured on the example corpus (README,
 * "Cost"): economy ~$0.0035 with domains and ~$0.008 without, standard ~$0.010 per company. Economy without a
 * domain stays above $0.004 because one basic Tavily search is $0.005 on its own.
 */
export const TIERS: Record<Tier, Omit<RunPlan, 'tier'>> = {
  economy: { max_iterations: 1, max_queries: 1, search_depth: 'basic', notes_model: 'none', extraction_model: 'small', read_site: true },
  standard: { max_iterations: 2, max_queries: 1, search_depth: 'basic', notes_model: 'none', extraction_model: 'small', read_site: false },
  deep: { max_iterations: 3, max_queries: 3, search_depth: 'advanced', notes_model: 'large', extraction_model: 'large', read_site: false },
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
