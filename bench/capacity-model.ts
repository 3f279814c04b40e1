/**
 * The capacity model: how long N companies take on AWS, and what limits them. Plain arithmetic over a measured
 * per-company profile (how many iterations, searches and model calls a company takes: bench/capacity.ts measures
 * it on the local runtime), per-call latencies, and the quotas of Lambda, Step Functions and the providers.
 *
 * A company runs its steps one after another (search, notes, extraction, reflection, per iteration), so the batch
 * is bounded below by four things at once: its longest company; the sum of all companies' paths spread over the
 * companies running at once; each provider's rate limits (requests and tokens per minute); and Step Functions'
 * state-transition rate. The makespan is predicted as the largest bound plus the fixed cost of starting and
 * assembling, which is how a well-paced batch behaves: the binding limit is the one to raise.
 */

export interface CompanyProfile {
  /** Mean iterations per company, and the most any company took. */
  meanIterations: number;
  maxIterations: number;
  searchesPerCompany: number;
  llmCallsPerCompany: number;
  inputTokensPerCompany: number;
  outputTokensPerCompany: number;
  /** Provider list-price cost of one company (searches + tokens), as the results record it. */
  providerUsdPerCompany: number;
}

export interface Latencies {
  /** One search round trip; a step's searches run in parallel, so an iteration waits for about one. */
  searchMs: number;
  /** One model call (notes, extraction). */
  llmMs: number;
  /** Reflection, storage and the Lambda invocations and state transitions between steps, per iteration. */
  overheadPerIterationMs: number;
  /** Starting the Map Run, reading the manifest, and assembling the results files, once per batch. */
  batchFixedMs: number;
}

export interface Limits {
  /** Distributed Map MaxConcurrency (the stack's `-c maxConcurrency`, 100 by default; at most 10,000). */
  mapConcurrency: number;
  /** Lambda concurrent executions of the account and Region (1,000 by default). */
  lambdaConcurrency: number;
  searchRequestsPerMinute: number;
  llmRequestsPerMinute: number;
  llmInputTokensPerMinute: number;
  llmOutputTokensPerMinute: number;
  /** Step Functions Standard state transitions per second (refill rate of the account's bucket). */
  stateTransitionsPerSecond: number;
  /** State transitions one company's child execution takes per iteration, plus its fixed ones. */
  transitionsPerIteration: number;
  transitionsPerCompany: number;
}

export interface AwsPrices {
  lambdaGbSecondUsd: number;
  lambdaRequestUsd: number;
  stateTransitionUsd: number;
  /** Memory of the functions that wait on providers: research (searches, notes) and extraction (one model call). */
  researchMemoryGb: number;
  extractionMemoryGb: number;
  /** Memory of the short steps (reflection, storage), which bill about the per-iteration overhead. */
  shortStepMemoryGb: number;
}

export interface Bound {
  name: string;
  seconds: number;
}

export interface Prediction {
  companies: number;
  /** One company's path, on average and at its longest. */
  meanCompanySeconds: number;
  longestCompanySeconds: number;
  concurrency: number;
  bounds: Bound[];
  binding: Bound;
  makespanSeconds: number;
  usdPerCompany: { providers: number; aws: number; total: number };
}

export function companySeconds(iterations: number, profile: CompanyProfile, latencies: Latencies): number {
  const llmCallsPerIteration = profile.llmCallsPerCompany / Math.max(profile.meanIterations, 1e-9);
  return (iterations * (latencies.searchMs + llmCallsPerIteration * latencies.llmMs + latencies.overheadPerIterationMs)) / 1000;
}

export function predict(companies: number, profile: CompanyProfile, latencies: Latencies, limits: Limits, prices: AwsPrices): Prediction {
  const mean = companySeconds(profile.meanIterations, profile, latencies);
  const longest = companySeconds(profile.maxIterations, profile, latencies);
  // Each running company holds one Lambda at a time (its steps are sequential).
  const concurrency = Math.min(limits.mapConcurrency, limits.lambdaConcurrency, companies);
  const perMinute = (total: number, limit: number) => (total / limit) * 60;
  const transitions = companies * (limits.transitionsPerCompany + profile.meanIterations * limits.transitionsPerIteration);
  const bounds: Bound[] = [
    { name: 'longest company', seconds: longest },
    { name: `companies at once (${concurrency})`, seconds: (companies * mean) / concurrency },
    { name: 'search requests/min', seconds: perMinute(companies * profile.searchesPerCompany, limits.searchRequestsPerMinute) },
    { name: 'model requests/min', seconds: perMinute(companies * profile.llmCallsPerCompany, limits.llmRequestsPerMinute) },
    { name: 'model input tokens/min', seconds: perMinute(companies * profile.inputTokensPerCompany, limits.llmInputTokensPerMinute) },
    { name: 'model output tokens/min', seconds: perMinute(companies * profile.outputTokensPerCompany, limits.llmOutputTokensPerMinute) },
    { name: 'state transitions/s', seconds: transitions / limits.stateTransitionsPerSecond },
  ];
  const binding = bounds.reduce((a, b) => (b.seconds > a.seconds ? b : a));

  // A Lambda bills while it waits for its provider: research for the searches and the notes, extraction for its call.
  const notesCallsPerIteration = Math.max(0, profile.llmCallsPerCompany / Math.max(profile.meanIterations, 1e-9) - 1);
  const gbSecondsPerIteration =
    prices.researchMemoryGb * (latencies.searchMs + notesCallsPerIteration * latencies.llmMs) / 1000 +
    prices.extractionMemoryGb * latencies.llmMs / 1000 +
    prices.shortStepMemoryGb * latencies.overheadPerIterationMs / 1000;
  const invocations = profile.meanIterations * 3 + 1;
  const aws =
    profile.meanIterations * gbSecondsPerIteration * prices.lambdaGbSecondUsd +
    invocations * prices.lambdaRequestUsd +
    (transitions / companies) * prices.stateTransitionUsd;
  return {
    companies,
    meanCompanySeconds: mean,
    longestCompanySeconds: longest,
    concurrency,
    bounds,
    binding,
    makespanSeconds: binding.seconds + latencies.batchFixedMs / 1000,
    usdPerCompany: { providers: profile.providerUsdPerCompany, aws, total: profile.providerUsdPerCompany + aws },
  };
}

export interface Requirement {
  what: string;
  needed: number;
  configured: number;
}

/**
 * What it takes to finish `companies` within `targetSeconds`: the concurrency and the rates each limit must allow.
 * Impossible (undefined) when one company alone takes longer than the target.
 */
export function requirementsFor(
  targetSeconds: number,
  companies: number,
  profile: CompanyProfile,
  latencies: Latencies,
  limits: Limits,
): Requirement[] | undefined {
  const usable = targetSeconds - latencies.batchFixedMs / 1000;
  const longest = companySeconds(profile.maxIterations, profile, latencies);
  if (usable <= longest) return undefined;
  const mean = companySeconds(profile.meanIterations, profile, latencies);
  const perMinute = (total: number) => Math.ceil((total / usable) * 60);
  const concurrency = Math.ceil((companies * mean) / usable);
  const transitions = companies * (limits.transitionsPerCompany + profile.meanIterations * limits.transitionsPerIteration);
  return [
    { what: 'Distributed Map MaxConcurrency (-c maxConcurrency)', needed: concurrency, configured: limits.mapConcurrency },
    { what: 'Lambda concurrent executions (account quota)', needed: concurrency, configured: limits.lambdaConcurrency },
    { what: 'search requests per minute (provider key)', needed: perMinute(companies * profile.searchesPerCompany), configured: limits.searchRequestsPerMinute },
    { what: 'model requests per minute', needed: perMinute(companies * profile.llmCallsPerCompany), configured: limits.llmRequestsPerMinute },
    { what: 'model input tokens per minute', needed: perMinute(companies * profile.inputTokensPerCompany), configured: limits.llmInputTokensPerMinute },
    { what: 'model output tokens per minute', needed: perMinute(companies * profile.outputTokensPerCompany), configured: limits.llmOutputTokensPerMinute },
    { what: 'state transitions per second', needed: Math.ceil(transitions / usable), configured: limits.stateTransitionsPerSecond },
  ];
}

/**
 * The local benchmark's yardstick: no schedule of these companies on `concurrency` slots can beat the larger of
 * their summed paths spread over the slots and the longest single path.
 */
export function idealMakespanSeconds(companyPathsSeconds: readonly number[], concurrency: number): number {
  const total = companyPathsSeconds.reduce((sum, s) => sum + s, 0);
  return Math.max(total / Math.max(1, Math.min(concurrency, companyPathsSeconds.length)), ...companyPathsSeconds, 0);
}
