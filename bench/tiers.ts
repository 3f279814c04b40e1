/**
 * What each cost tier costs and finds: `npm run bench:tiers [-- --companies 100 --runs economy,economy+domains,…]`.
 * Every run researches the same companies on the local runtime, one batch after another, with the stand-ins'
 * token counts (from the actual request and reply sizes) priced at list prices (lambdas/core/pricing.ts). A run
 * `<tier>+domains` gives each company with its domain (examples/companies.csv), as a CRM export would: economy then
 * reads the companies' own sites instead of searching.
 * The search cache is off: the list cycles through the example companies, so a cache would answer most searches.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tierSchema, type CompanyInput, type CompanyResult, type Tier } from '../lambdas/core/contracts';
import { jobKeys } from '../lambdas/core/job-layout';
import { TIERS } from '../lambdas/core/tiers';
import { readCompanies } from '../local/companies-file';
import { startLocalRuntime } from '../local/runtime';

const { values } = parseArgs({
  options: {
    companies: { type: 'string', default: '100' },
    runs: { type: 'string', default: 'economy,economy+domains,standard,deep' },
    schema: { type: 'string', default: 'examples/schema.json' },
  },
});
const fail = (message: string): never => {
  console.error(`bench:tiers: ${message}`);
  process.exit(2);
};
const count = Number(values.companies);
if (!Number.isInteger(count) || count < 1) fail(`--companies must be a positive whole number, not ${values.companies}`);
const runs = values.runs.split(',').map((run) => {
  const [tier, domains, ...extra] = run.trim().split('+');
  const parsed = tierSchema.safeParse(tier);
  if (!parsed.success || extra.length || (domains !== undefined && domains !== 'domains')) {
    return fail(`--runs: "${run}" is not <tier> or <tier>+domains, with a tier of ${tierSchema.options.join(', ')}`);
  }
  return { tier: parsed.data, domains: domains !== undefined, name: run.trim() };
});
const cycle = (list: CompanyInput[]) => Array.from({ length: count }, (_, i) => list[i % list.length]!);
const names = cycle(readCompanies(readFileSync('examples/companies.txt', 'utf8'), 'companies.txt'));
const withDomains = cycle(readCompanies(readFileSync('examples/companies.csv', 'utf8'), 'companies.csv'));
const schema = JSON.parse(readFileSync(values.schema, 'utf8'));

/** The targets (issue 6, part 5); deep has none. */
const TARGET_USD: Partial<Record<Tier, number>> = { economy: 0.004, standard: 0.01 };

const runtime = await startLocalRuntime({ corpusDir: 'examples/corpus', providers: 'stand-ins', logLevel: 'ERROR', searchCache: false });
const rows: { name: string; tier: Tier; results: CompanyResult[]; seconds: number; jobCost: number }[] = [];
try {
  for (const { tier, domains, name } of runs) {
    const started = Date.now();
    const submitted = await runtime.api.submitBatch({ companies: domains ? withDomains : names, extraction_schema: schema, tier });
    if (submitted.statusCode !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
    const jobId: string = submitted.body.job_id;
    const execution = await runtime.waitForJob(jobId);
    if (execution.status !== 'SUCCEEDED') throw new Error(`${tier}: the batch ended ${execution.status}: ${execution.error}: ${execution.cause}`);
    const text = (await runtime.results.getText(jobKeys.jsonl(jobId)))!;
    const results = text.trim().split('\n').map((line) => JSON.parse(line) as CompanyResult);
    const job = (await runtime.api.getJob(jobId)).body;
    rows.push({ name, tier, results, seconds: (Date.now() - started) / 1000, jobCost: job.cost_usd });
  }
} finally {
  await runtime.stop();
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const per = (results: CompanyResult[], part: (r: CompanyResult) => number) => mean(results.map(part));
const usd = (n: number) => `$${n.toFixed(4)}`;
const table: [string, (row: (typeof rows)[number]) => string][] = [
  ['plan', ({ tier }) => {
    const p = TIERS[tier];
    const site = p.read_site ? 'own site when the domain is given, else ' : '';
    return `${p.max_iterations} round(s) × ${site}${p.max_queries} ${p.search_depth} search(es), notes ${p.notes_model}, extraction ${p.extraction_model}`;
  }],
  ['cost per company', ({ results }) => usd(per(results, (r) => r.cost.usd))],
  ['  target', ({ tier, results }) => {
    const target = TARGET_USD[tier];
    if (target === undefined) return '(none)';
    const cost = per(results, (r) => r.cost.usd);
    return cost <= target ? `≤ ${usd(target)}: met` : `≤ ${usd(target)}: missed by ${usd(cost - target)} (${((cost / target - 1) * 100).toFixed(0)} %)`;
  }],
  ['  search', ({ results }) => usd(per(results, (r) => r.cost.search_usd))],
  ['  LLM', ({ results }) => usd(per(results, (r) => r.cost.llm_usd))],
  ['  Lambda (estimate)', ({ results }) => `$${per(results, (r) => r.cost.lambda_usd).toFixed(6)}`],
  ['  Step Functions (estimate)', ({ results }) => `$${per(results, (r) => r.cost.step_functions_usd).toFixed(6)}`],
  ['job cost_usd / companies', ({ jobCost }) => usd(jobCost / count)],
  ['searches per company', ({ results }) => per(results, (r) => r.cost.search_queries).toFixed(2)],
  // Only a round that read the company's site makes no search.
  ['own site read, no search', ({ results }) => `${results.filter((r) => r.cost.search_queries === 0).length} of ${results.length}`],
  ['search credits per company', ({ results }) => per(results, (r) => r.cost.search_credits).toFixed(2)],
  ['LLM tokens in / out', ({ results }) => `${per(results, (r) => r.cost.llm_input_tokens).toFixed(0)} / ${per(results, (r) => r.cost.llm_output_tokens).toFixed(0)}`],
  ['  by model (uncached in / out)', ({ results }) => {
    const models = [...new Set(results.flatMap((r) => Object.keys(r.cost.llm)))].sort();
    return models
      .map((m) => `${m} ${per(results, (r) => r.cost.llm[m]?.input_tokens ?? 0).toFixed(0)} / ${per(results, (r) => r.cost.llm[m]?.output_tokens ?? 0).toFixed(0)}`)
      .join(', ');
  }],
  ['  prompt cache write / read', ({ results }) => {
    const write = per(results, (r) => Object.values(r.cost.llm).reduce((s, t) => s + t.cache_write_tokens, 0));
    const read = per(results, (r) => Object.values(r.cost.llm).reduce((s, t) => s + t.cache_read_tokens, 0));
    return `${write.toFixed(0)} / ${read.toFixed(0)} tokens`;
  }],
  ['completed / failed', ({ results }) => `${results.filter((r) => r.status === 'completed').length} / ${results.filter((r) => r.status === 'failed').length}`],
  ['complete records', ({ results }) => `${results.filter((r) => r.complete).length} of ${results.length}`],
  ['mean completeness', ({ results }) => per(results, (r) => r.completeness_score).toFixed(3)],
  ['mean rounds', ({ results }) => per(results, (r) => r.iterations).toFixed(2)],
  ['batch wall time', ({ seconds }) => `${seconds.toFixed(1)} s`],
];

console.log(`cost tiers: ${count} companies each, schema ${values.schema}, stand-in providers, search cache off, list prices`);
const width = Math.max(...table.map(([label]) => label.length)) + 2;
console.log(`${''.padEnd(width)}${rows.map((r) => r.name).join(' | ')}`);
for (const [label, cell] of table) console.log(`${label.padEnd(width)}${rows.map(cell).join(' | ')}`);
