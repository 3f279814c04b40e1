/**
 * The capacity model, printed: `npm run bench:model [-- --companies 1000 --target 60 --tier economy --domains]`.
 * First measures what a company takes (iterations, searches, model calls and tokens) by running the example
 * companies through the local runtime on the stand-ins; then predicts, from per-call latencies and the quotas of
 * Lambda, Step Functions and the providers (all flags, defaults below), the makespan and cost of N companies on AWS,
 * which limit binds, and what must be raised to finish within the target.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tierSchema, type CompanyResult } from '../lambdas/core/contracts';
import { jobKeys } from '../lambdas/core/job-layout';
import { DEFAULT_PROVIDER_LIMITS } from '../lambdas/core/provider-limits';
import { readCompanies } from '../local/companies-file';
import { startLocalRuntime } from '../local/runtime';
import { predict, requirementsFor, type AwsPrices, type CompanyProfile, type Latencies, type Limits } from './capacity-model';

const { values } = parseArgs({
  options: {
    companies: { type: 'string', default: '1000' },
    target: { type: 'string', default: '60' },
    iterations: { type: 'string', default: '2' },
    // The tier the profile batch runs (its own max_iterations unless --iterations is given), and whether the
    // companies come with their domains (economy then reads their sites: a site read is timed as a search).
    tier: { type: 'string' },
    domains: { type: 'boolean', default: false },
    // Latencies on AWS: a Tavily basic search, a Claude call writing a few hundred tokens.
    'search-latency-ms': { type: 'string', default: '800' },
    'llm-latency-ms': { type: 'string', default: '4000' },
    // Per iteration: four warm Lambda invocations, five state transitions, reflection and storage themselves.
    'overhead-ms': { type: 'string', default: '400' },
    'fixed-ms': { type: 'string', default: '5000' },
    'map-concurrency': { type: 'string', default: '100' },
    'lambda-concurrency': { type: 'string', default: '1000' },
    // The limits a deployment paces itself to by default (lambdas/core/provider-limits.ts).
    'search-rpm': { type: 'string', default: String(DEFAULT_PROVIDER_LIMITS.searchRequestsPerMinute) },
    'llm-rpm': { type: 'string', default: String(DEFAULT_PROVIDER_LIMITS.llmRequestsPerMinute) },
    'llm-itpm': { type: 'string', default: String(DEFAULT_PROVIDER_LIMITS.llmInputTokensPerMinute) },
    'llm-otpm': { type: 'string', default: String(DEFAULT_PROVIDER_LIMITS.llmOutputTokensPerMinute) },
    // Standard workflows' state-transition refill rate in the large Regions (us-east-1, us-west-2, eu-west-1).
    'transitions-per-second': { type: 'string', default: '5000' },
  },
});
const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
  return n;
};
const companies = num('companies');
const target = num('target');

// ── 1. The profile: the example companies (twice over), on the stand-ins, cache off ──────────────────────────
const tier = values.tier === undefined ? undefined : tierSchema.safeParse(values.tier).data;
if (values.tier !== undefined && !tier) {
  console.error(`--tier must be one of ${tierSchema.options.join(', ')}`);
  process.exit(2);
}
const names = values.domains
  ? readCompanies(readFileSync('examples/companies.csv', 'utf8'), 'companies.csv')
  : readCompanies(readFileSync('examples/companies.txt', 'utf8'), 'companies.txt');
const sample = [...names, ...names];
// A tier's own rounds unless --iterations says otherwise; without a tier, the default tier with --iterations.
const rounds = tier && !process.argv.includes('--iterations') ? {} : { max_iterations: num('iterations') };
// Paced far above what the run can send: the profile counts calls, it does not measure the limits.
const unpaced = { searchRequestsPerMinute: 1e9, llmRequestsPerMinute: 1e9, llmInputTokensPerMinute: 1e12, llmOutputTokensPerMinute: 1e12 };
const runtime = await startLocalRuntime({ corpusDir: 'examples/corpus', providers: 'stand-ins', logLevel: 'ERROR', searchCache: false, context: unpaced });
let results: CompanyResult[];
let llmCalls: number;
try {
  const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));
  const submitted = await runtime.api.submitBatch({ companies: sample, extraction_schema: schema, ...(tier ? { tier } : {}), ...rounds });
  if (submitted.statusCode !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
  await runtime.waitForJob(submitted.body.job_id);
  const jsonl = await runtime.results.getText(jobKeys.jsonl(submitted.body.job_id));
  if (!jsonl) throw new Error(`the profile batch wrote no results: ${JSON.stringify((await runtime.api.getJob(submitted.body.job_id)).body)}`);
  results = jsonl.trim().split('\n').map((line) => JSON.parse(line) as CompanyResult);
  llmCalls = runtime.standInRequests()!.anthropic;
} finally {
  await runtime.stop();
}
const mean = (f: (r: CompanyResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
const profile: CompanyProfile = {
  meanIterations: mean((r) => r.iterations),
  maxIterations: Math.max(...results.map((r) => r.iterations)),
  searchesPerCompany: mean((r) => r.cost.search_queries),
  llmCallsPerCompany: llmCalls / results.length,
  inputTokensPerCompany: mean((r) => r.cost.llm_input_tokens),
  outputTokensPerCompany: mean((r) => r.cost.llm_output_tokens),
  // The providers' part only: a result's cost.usd also holds its Lambda and Step Functions estimates, which the
  // model prices itself from the predicted durations.
  providerUsdPerCompany: mean((r) => r.cost.search_usd + r.cost.llm_usd),
};

// ── 2. The prediction ──────────────────────────────────────────────────────────────────────────────────────
const latencies: Latencies = {
  searchMs: num('search-latency-ms'),
  llmMs: num('llm-latency-ms'),
  overheadPerIterationMs: num('overhead-ms'),
  batchFixedMs: num('fixed-ms'),
};
const limits: Limits = {
  mapConcurrency: num('map-concurrency'),
  lambdaConcurrency: num('lambda-concurrency'),
  searchRequestsPerMinute: num('search-rpm'),
  llmRequestsPerMinute: num('llm-rpm'),
  llmInputTokensPerMinute: num('llm-itpm'),
  llmOutputTokensPerMinute: num('llm-otpm'),
  stateTransitionsPerSecond: num('transitions-per-second'),
  // Research, Extract, Reflect, RecordComplete?, NextIteration per round; the item's start, StoreResult, its end.
  transitionsPerIteration: 5,
  transitionsPerCompany: 3,
};
// List prices, us-east-1: Lambda arm64 per GB-second and per request; Step Functions Standard per transition.
const prices: AwsPrices = {
  lambdaGbSecondUsd: 0.0000133334,
  lambdaRequestUsd: 0.0000002,
  stateTransitionUsd: 0.000025,
  researchMemoryGb: 1,
  extractionMemoryGb: 0.5,
  shortStepMemoryGb: 0.25,
};
const prediction = predict(companies, profile, latencies, limits, prices);

const f = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const lines = [
  `profile, measured on the stand-ins (${results.length} companies${values.domains ? ' with their domains' : ''}, tier ${tier ?? 'standard'}` +
    `${rounds.max_iterations ? `, max_iterations ${rounds.max_iterations}` : ''}):`,
  `  iterations ${f(profile.meanIterations, 2)} mean, ${profile.maxIterations} max; searches ${f(profile.searchesPerCompany, 2)}, model calls ${f(profile.llmCallsPerCompany, 2)}, ` +
    `tokens ${f(profile.inputTokensPerCompany, 0)} in / ${f(profile.outputTokensPerCompany, 0)} out per company`,
  `latencies: search ${latencies.searchMs} ms, model call ${latencies.llmMs} ms, ${latencies.overheadPerIterationMs} ms per iteration between steps, ${latencies.batchFixedMs} ms per batch`,
  `  one company: ${f(prediction.meanCompanySeconds)} s on average, ${f(prediction.longestCompanySeconds)} s at most`,
  '',
  `${companies.toLocaleString('en-US')} companies on AWS — lower bounds, seconds:`,
  ...prediction.bounds.map((b) => `  ${b === prediction.binding ? '▶' : ' '} ${b.name.padEnd(30)} ${f(b.seconds).padStart(9)}`),
  `  predicted makespan: ${f(prediction.makespanSeconds)} s (bound by ${prediction.binding.name}, plus ${latencies.batchFixedMs / 1000} s to start and assemble)`,
  `  cost per company: $${prediction.usdPerCompany.total.toFixed(4)} = providers $${prediction.usdPerCompany.providers.toFixed(4)} (list prices, measured usage) + AWS $${prediction.usdPerCompany.aws.toFixed(5)} (Lambda, Step Functions)`,
  '',
];
const needs = requirementsFor(target, companies, profile, latencies, limits);
if (!needs) {
  lines.push(`within ${target} s: impossible at these latencies — the longest company alone takes ${f(prediction.longestCompanySeconds)} s; lower max_iterations or the per-call latencies`);
} else {
  lines.push(`to finish ${companies.toLocaleString('en-US')} companies within ${target} s:`);
  for (const need of needs) {
    const verdict = need.needed <= need.configured ? 'ok' : `raise (×${f(need.needed / need.configured)})`;
    lines.push(`  ${need.what.padEnd(52)} needs ${need.needed.toLocaleString('en-US').padStart(10)}   now ${need.configured.toLocaleString('en-US').padStart(10)}   ${verdict}`);
  }
}
console.log(lines.join('\n'));
