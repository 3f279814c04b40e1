/**
 * Throughput of a whole batch on the local runtime: `npm run bench [-- --companies 1000]`.
 * Providers are the stand-ins, so this measures Dossier's own orchestration and storage, not the web or the model.
 * `--faults` and `--crash-pct` inject provider errors and crashed Lambda runtimes; the accounting lines say whether
 * every company still came out exactly once and whether the job's counters match the files.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { CompanyResult } from '../lambdas/core/contracts';
import { jobKeys } from '../lambdas/core/job-layout';
import { crashAtRate, type CrashPlan } from '../local/crash-injection';
import { startLocalRuntime } from '../local/runtime';
import type { TaskTiming } from '../local/task-handlers';
import { idealMakespanSeconds } from './capacity-model';
import { pacingRuntimeOptions, rateOptions, rateReport } from './rates';
import { faultsAtRate } from '../local/stand-ins/faults';

const { values } = parseArgs({
  options: {
    companies: { type: 'string', default: '1000' },
    iterations: { type: 'string', default: '2' },
    // Off by default: the batch cycles through 27 names, so a cache would answer almost every search.
    cache: { type: 'boolean', default: false },
    // Simulated provider round trips, to see what the Map's concurrency makes of real latencies.
    'search-latency-ms': { type: 'string', default: '0' },
    'llm-latency-ms': { type: 'string', default: '0' },
    ...rateOptions,
    // Share (0–1) of provider requests answered 429 or 500, half each.
    faults: { type: 'string', default: '0' },
    // Percentage of Lambda task invocations that die like a crashed runtime (before, inside or after their handler).
    'crash-pct': { type: 'string', default: '0' },
    // tavily, google or hybrid; unset, the API's default.
    'search-provider': { type: 'string' },
  },
});
const count = Number(values.companies);
const faultRate = Number(values.faults);
const crashPct = Number(values['crash-pct']);
const names = readFileSync('examples/companies.txt', 'utf8').trim().split('\n');
// Cycle through the example list: each name recurs, which is why the search cache is off by default.
const companies = Array.from({ length: count }, (_, i) => names[i % names.length]!);
const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));

/** How many invocations the plan killed, by where they died. */
const crashes = { start: 0, checkpoint: 0, end: 0, storageMidway: 0 };
function counted(plan: CrashPlan): CrashPlan {
  return (invocation) => {
    const stage = plan(invocation);
    if (stage) crashes[stage] += 1;
    // Every storage invocation reaches its crash point: dying there leaves a result written but not counted.
    if (stage === 'checkpoint' && ['StoreResult', 'RecordFailure'].includes(invocation.state)) crashes.storageMidway += 1;
    return stage;
  };
}

let peakRss = 0;
const timings: TaskTiming[] = [];
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

const startup = Date.now();
const runtime = await startLocalRuntime({
  corpusDir: 'examples/corpus',
  providers: 'stand-ins',
  logLevel: 'ERROR',
  searchCache: values.cache,
  // The tables of a large batch (its search journal above all) live on disk, as DynamoDB's would, not in this process.
  dynamodbOnDisk: true,
  standInLatencyMs: {
    tavily: Number(values['search-latency-ms']),
    gemini: Number(values['search-latency-ms']),
    anthropic: Number(values['llm-latency-ms']),
  },
  ...pacingRuntimeOptions(values),
  faults: { tavily: faultsAtRate(faultRate), gemini: faultsAtRate(faultRate), anthropic: faultsAtRate(faultRate) },
  ...(crashPct > 0 ? { crashes: counted(crashAtRate(crashPct / 100)) } : {}),
  onTaskTiming: (timing) => timings.push(timing),
});
const ready = Date.now();
// How busy the one thread that runs everything locally was, and how late it got to what was ready to run.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const loopBefore = performance.eventLoopUtilization();
const submitted = await runtime.api.submitBatch({
  companies,
  extraction_schema: schema,
  max_iterations: Number(values.iterations),
  ...(values['search-provider'] ? { search_provider: values['search-provider'] } : {}),
});
if (submitted.statusCode !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
const jobId: string = submitted.body.job_id;
const execution = await runtime.waitForJob(jobId);
const finished = Date.now();
clearInterval(sampler);
loopDelay.disable();
const loopBusy = performance.eventLoopUtilization(loopBefore).utilization;

// The file is read a line at a time, as a client would, and checked: one line per company, none twice.
const job = (await runtime.api.getJob(jobId)).body;
const lines = await runtime.results.readLines(jobKeys.jsonl(jobId));
const seen = new Set<number>();
const failureReasons = new Map<string, number>();
const file = { lines: 0, duplicates: 0, completed: 0, failed: 0, not_found: 0, complete: 0, searches: 0, tokens: 0, usd: 0 };
const iterationsOf: number[] = [];
for await (const line of lines ?? []) {
  if (!line) continue;
  const result = JSON.parse(line) as CompanyResult;
  file.lines += 1;
  if (seen.has(result.index)) file.duplicates += 1;
  seen.add(result.index);
  file[result.status] += 1;
  if (result.complete) file.complete += 1;
  if (result.status === 'failed') {
    // Grouped by the error's name, the part of the reason before its first colon.
    const reason = (result.failure_reason ?? 'no reason').split(':')[0]!;
    failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
  }
  iterationsOf.push(result.iterations);
  file.searches += result.cost.search_queries;
  file.tokens += result.cost.llm_input_tokens + result.cost.llm_output_tokens;
  file.usd += result.cost.usd;
}
const sent = runtime.standInRequests()!;
// The Map's concurrency, as the synthesized definition sets it: the ideal schedule's number of slots.
const coordinator = runtime.stateMachines.find((m) => m.arn === runtime.coordinatorArn)!;
const mapState = Object.values((coordinator.definition as { States: Record<string, any> }).States).find((st) => st.Type === 'Map');
const mapConcurrency: number = mapState?.MaxConcurrency ?? 100;
const rates = rateReport(runtime);
await runtime.stop();

const seconds = (finished - ready) / 1000;
const assembled = execution.output ? JSON.parse(execution.output).assembled : undefined;
console.log(
  `batch of ${count} companies, max_iterations ${values.iterations}, search provider ${values['search-provider'] ?? '(default)'}, ` +
    `search cache ${values.cache ? 'on' : 'off'}, stand-in latency: search ${values['search-latency-ms']} ms, LLM ${values['llm-latency-ms']} ms, ` +
    `provider faults ${(faultRate * 100).toFixed(1)} %, crashes ${crashPct} %`,
);
console.log(`  execution:          ${execution.status}${execution.error ? ` (${execution.error}: ${execution.cause})` : ''}`);
console.log(`  job:                ${job.status}${job.error ? `: ${job.error}` : ''}`);
if (crashPct > 0) {
  console.log(
    `  injected crashes:   ${crashes.start + crashes.checkpoint + crashes.end} Lambda invocations (${crashes.start} before their ` +
      `handler, ${crashes.checkpoint + crashes.end} during or after it; ${crashes.storageMidway} between a result's S3 write and its count)`,
  );
}
console.log(`  runtime start-up:   ${((ready - startup) / 1000).toFixed(1)} s (synth + embedded servers)`);
console.log(`  batch wall time:    ${seconds.toFixed(1)} s  (${(count / seconds).toFixed(1)} companies/s; seed target 1,000 in 90 s)`);
console.log(`  peak RSS:           ${(peakRss / 1024 / 1024).toFixed(0)} MiB (whole process: runtime, servers and handlers)`);
const lagMs = (percentile: number) => (loopDelay.percentile(percentile) / 1e6).toFixed(0);
console.log(
  `  event loop:         ${(loopBusy * 100).toFixed(0)} % busy; delay p50 ${lagMs(50)} ms, p99 ${lagMs(99)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms ` +
    '(the one thread that runs the interpreter, the embedded services, the stand-ins and every handler)',
);
if (!lines) {
  console.log(`  results.jsonl:      missing — ${job.error ?? `the job is ${job.status}`}`);
  process.exitCode = 1;
} else {
  const counters = job.progress as { total: number; completed: number; failed: number };
  // A company not found is counted as completed (its research finished): the counters hold both.
  const countersMatch = counters.completed === file.completed + file.not_found && counters.failed === file.failed;
  console.log(`  accounted:          ${seen.size} of ${count} (completed ${file.completed} + not found ${file.not_found} + failed ${file.failed}; ${file.lines} lines)`);
  console.log(`  duplicates:         ${file.duplicates}`);
  console.log(`  completed:          ${file.completed}`);
  if (failureReasons.size) console.log(`  failed, by reason:  ${[...failureReasons].map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
  console.log(
    `  counters = files:   ${countersMatch ? 'yes' : 'NO'} (job counters: completed ${counters.completed} + failed ${counters.failed} of ${counters.total}` +
      `${assembled ? `; assembly wrote completed ${assembled.completed} + failed ${assembled.failed}, ${assembled.unrecorded} unrecorded` : ''})`,
  );
  console.log(`  complete records:   ${file.complete}`);
  console.log(`  search queries:     ${(file.searches / count).toFixed(2)} per company, ${sent.tavily + sent.gemini} sent to the search providers (Tavily ${sent.tavily}, Gemini ${sent.gemini})`);
  console.log(`  LLM tokens:         ${(file.tokens / count).toFixed(0)} per company`);
  console.log(`  est. provider cost: $${(file.usd / count).toFixed(4)} per company (list prices)`);
}
for (const line of rates) console.log(line);
const latency = { search: Number(values['search-latency-ms']), llm: Number(values['llm-latency-ms']) };
if (latency.search + latency.llm > 0 && iterationsOf.length) {
  // Each company's critical path from the stand-ins' latencies: per iteration one search round (its queries run in
  // parallel) and the model calls, spread over its iterations as the batch made them on average.
  const llmCallsPerIteration = sent.anthropic / iterationsOf.reduce((a, b) => a + b, 0);
  const paths = iterationsOf.map((n) => (n * (latency.search + llmCallsPerIteration * latency.llm)) / 1000);
  const ideal = idealMakespanSeconds(paths, mapConcurrency);
  console.log(
    `  makespan vs ideal:  ${seconds.toFixed(1)} s against ${ideal.toFixed(1)} s = ${(seconds / ideal).toFixed(2)}× ` +
      `(ideal: the larger of Σ company paths ÷ ${mapConcurrency} at once, and the longest company, ${Math.max(...paths).toFixed(1)} s)`,
  );
  // Where the rest went: the companies' own tasks, or the last companies still running after the others were done.
  const companyTasks = timings.filter((t) => t.index !== undefined);
  const taskSeconds = companyTasks.reduce((sum, t) => sum + (t.endedAt - t.startedAt), 0) / 1000;
  const spans = new Map<number, { start: number; end: number }>();
  for (const t of companyTasks) {
    const span = spans.get(t.index!) ?? { start: t.startedAt, end: t.endedAt };
    spans.set(t.index!, { start: Math.min(span.start, t.startedAt), end: Math.max(span.end, t.endedAt) });
  }
  const lastStart = Math.max(...[...spans.values()].map((s) => s.start));
  const lastEnd = Math.max(...[...spans.values()].map((s) => s.end));
  console.log(
    `  where it went:      Σ task time ÷ ${mapConcurrency} = ${(taskSeconds / mapConcurrency).toFixed(1)} s (the latencies alone: ${ideal.toFixed(1)} s); ` +
      `the last company started at ${((lastStart - ready) / 1000).toFixed(1)} s and the last ended at ${((lastEnd - ready) / 1000).toFixed(1)} s`,
  );
}
