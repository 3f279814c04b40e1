/**
 * Throughput of a whole batch on the local runtime: `npm run bench [-- --companies 1000]`.
 * Providers are the stand-ins, so this measures Dossier's own orchestration and storage, not the web or the model.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CompanyResult } from '../lambdas/core/contracts';
import { jobKeys } from '../lambdas/core/job-layout';
import { startLocalRuntime } from '../local/runtime';

const { values } = parseArgs({
  options: {
    companies: { type: 'string', default: '1000' },
    iterations: { type: 'string', default: '2' },
    // Off by default: the batch cycles through 27 names, so a cache would answer almost every search.
    cache: { type: 'boolean', default: false },
    // Simulated provider round trips, to see what the Map's concurrency makes of real latencies.
    'search-latency-ms': { type: 'string', default: '0' },
    'llm-latency-ms': { type: 'string', default: '0' },
    // tavily, google or hybrid; unset, the API's default.
    'search-provider': { type: 'string' },
  },
});
const count = Number(values.companies);
const names = readFileSync('examples/companies.txt', 'utf8').trim().split('\n');
// Cycle through the example list: each name recurs, which is why the search cache is off by default.
const companies = Array.from({ length: count }, (_, i) => names[i % names.length]!);
const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

const startup = Date.now();
const runtime = await startLocalRuntime({
  corpusDir: 'examples/corpus',
  providers: 'stand-ins',
  logLevel: 'ERROR',
  searchCache: values.cache,
  standInLatencyMs: {
    tavily: Number(values['search-latency-ms']),
    gemini: Number(values['search-latency-ms']),
    anthropic: Number(values['llm-latency-ms']),
  },
});
const ready = Date.now();
const submitted = await runtime.api.submitBatch({
  companies,
  extraction_schema: schema,
  max_iterations: Number(values.iterations),
  ...(values['search-provider'] ? { search_provider: values['search-provider'] } : {}),
});
if (submitted.statusCode !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
const execution = await runtime.waitForJob(submitted.body.job_id);
const finished = Date.now();
clearInterval(sampler);

const results = (await runtime.results.getText(jobKeys.jsonl(submitted.body.job_id)))!
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as CompanyResult);
const job = (await runtime.api.getJob(submitted.body.job_id)).body;
const sent = runtime.standInRequests()!;
await runtime.stop();

const seconds = (finished - ready) / 1000;
const llmTokens = results.reduce((s, r) => s + r.cost.llm_input_tokens + r.cost.llm_output_tokens, 0);
console.log(
  `batch of ${count} companies, max_iterations ${values.iterations}, search provider ${values['search-provider'] ?? '(default)'}, ` +
    `search cache ${values.cache ? 'on' : 'off'}, ` +
    `stand-in latency: search ${values['search-latency-ms']} ms, LLM ${values['llm-latency-ms']} ms`,
);
console.log(`  execution:          ${execution.status}`);
console.log(`  runtime start-up:   ${((ready - startup) / 1000).toFixed(1)} s (synth + embedded servers)`);
console.log(`  batch wall time:    ${seconds.toFixed(1)} s  (${(count / seconds).toFixed(1)} companies/s; seed target 1,000 in 90 s)`);
console.log(`  counters:           completed ${job.progress.completed} + failed ${job.progress.failed} = ${job.progress.completed + job.progress.failed} of ${job.progress.total}`);
console.log(`  complete records:   ${results.filter((r) => r.complete).length}`);
console.log(`  search queries:     ${(results.reduce((s, r) => s + r.cost.search_queries, 0) / count).toFixed(2)} per company, ${sent.tavily + sent.gemini} sent to the search providers (Tavily ${sent.tavily}, Gemini ${sent.gemini})`);
console.log(`  LLM tokens:         ${(llmTokens / count).toFixed(0)} per company`);
console.log(`  est. provider cost: $${(results.reduce((s, r) => s + r.cost.usd, 0) / count).toFixed(4)} per company (list prices)`);
console.log(`  peak RSS:           ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
