#!/usr/bin/env -S npx tsx
/**
 * The Dossier CLI.
 *   run     researches a batch on this machine through the same path a deployed batch takes (the submit handler,
 *           the state machine synthesized from the CDK app, the storage handlers)
 *   serve   the A2A agents and the REST API on localhost
 *   submit, watch, results, single   the REST API of a deployed stack, or of `dossier serve`
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { SEARCH_PROVIDERS, companyInputSchema, describeZodError, tierSchema, type CompanyInput, type CompanyResult, type ExtractionSchema, type JobView, type SearchProviderName } from '../lambdas/core/contracts';
import { evidenceCoverage } from '../lambdas/core/evidence';
import { recordProblems } from '../lambdas/core/json-schema';
import { jobKeys } from '../lambdas/core/job-layout';
import { startLocalRuntime } from '../local/runtime';
import { readCompanies } from '../local/companies-file';
import { ApiError, DossierApi, tokenSourceFromEnvironment } from './api-client';
import { cliInput } from './cli-input';

const cli = cliInput('dossier');
// Annotated, so that TypeScript knows a call to fail ends the path.
const fail: (message: string) => never = cli.fail;
const readJson = cli.readJson;

function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) fail(`--${name} must be a whole number, got "${value}"`);
  return n;
}

/** Checked by the API like every other field; the CLI only refuses what is not one of the names. */
function searchProviderOption(value: string | undefined): SearchProviderName | undefined {
  if (value === undefined) return undefined;
  if (!(SEARCH_PROVIDERS as readonly string[]).includes(value)) fail(`--search-provider must be one of ${SEARCH_PROVIDERS.join(', ')}, got "${value}"`);
  return value as SearchProviderName;
}

const TIERS = tierSchema.options;

/** The request fields the research options of run, submit and single set: only those given, so the API's defaults apply. */
function researchOptions(options: { tier?: string; maxIterations?: string; maxQueries?: string; maxCostUsd?: string; searchProvider?: string }): Record<string, unknown> {
  if (options.tier !== undefined && !(TIERS as readonly string[]).includes(options.tier)) fail(`--tier must be one of ${TIERS.join(', ')}, got "${options.tier}"`);
  const maxIterations = integerOption(options.maxIterations, 'max-iterations');
  const maxQueries = integerOption(options.maxQueries, 'max-queries');
  const searchProvider = searchProviderOption(options.searchProvider);
  let maxCostUsd: number | undefined;
  if (options.maxCostUsd !== undefined) {
    maxCostUsd = Number(options.maxCostUsd);
    if (!Number.isFinite(maxCostUsd) || maxCostUsd <= 0) fail(`--max-cost-usd must be a positive number of dollars, got "${options.maxCostUsd}"`);
  }
  return {
    ...(options.tier ? { tier: options.tier } : {}),
    ...(maxIterations ? { max_iterations: maxIterations } : {}),
    ...(maxQueries ? { max_queries: maxQueries } : {}),
    ...(searchProvider ? { search_provider: searchProvider } : {}),
    ...(maxCostUsd ? { max_cost_usd: maxCostUsd } : {}),
  };
}

function progressLine(view: JobView): string {
  const { total, completed, failed } = view.progress;
  const width = 30;
  const filled = total ? Math.round(((completed + failed) / total) * width) : 0;
  const spent = `$${(view.cost_usd ?? 0).toFixed(4)}${view.max_cost_usd ? ` of $${view.max_cost_usd}` : ''}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${completed + failed}/${total}  completed ${completed}  failed ${failed}  ${spent}  (${view.status.toLowerCase()})`;
}

function summary(results: CompanyResult[], schema: ExtractionSchema, seconds: number): string {
  const completed = results.filter((r) => r.status === 'completed');
  const notFound = results.filter((r) => r.status === 'not_found');
  const failed = results.filter((r) => r.status === 'failed');
  const complete = completed.filter((r) => r.complete);
  const valid = completed.filter((r) => recordProblems(schema, r.data, { partial: false }).length === 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const sum = (part: (r: CompanyResult) => number) => results.reduce((total, r) => total + part(r), 0);
  const cost = sum((r) => r.cost.usd);
  const coverage = evidenceCoverage(results);
  const lines = [
    '',
    `Companies: ${results.length}   completed: ${completed.length}   not found: ${notFound.length}   failed: ${failed.length}   (${seconds.toFixed(1)} s)`,
    `Schema-valid records: ${valid.length} of ${completed.length} completed${valid.length < completed.length ? ' (the others lack required fields)' : ''}`,
    `Complete records: ${complete.length}   mean completeness: ${mean(completed.map((r) => r.completeness_score)).toFixed(3)}   mean confidence: ${mean(completed.map((r) => r.confidence_score)).toFixed(2)}`,
    `Values with verified evidence: ${coverage.withEvidence} of ${coverage.values}${coverage.without.length ? ` (without: ${coverage.without.join(', ')})` : ''}`,
    `Estimated cost at list prices: $${cost.toFixed(4)} ($${(results.length ? cost / results.length : 0).toFixed(4)} per company): ` +
      `search $${sum((r) => r.cost.search_usd).toFixed(4)}, LLM $${sum((r) => r.cost.llm_usd).toFixed(4)}, ` +
      `Lambda $${sum((r) => r.cost.lambda_usd).toFixed(4)}, Step Functions $${sum((r) => r.cost.step_functions_usd).toFixed(4)}`,
  ];
  const partial = completed.filter((r) => !r.complete);
  if (partial.length) {
    lines.push('', 'Incomplete records:');
    for (const r of partial) {
      const gaps = [
        r.missing_fields.length ? `missing ${r.missing_fields.join(', ')}` : '',
        r.contested_fields.length ? `contested ${r.contested_fields.join(', ')}` : '',
      ].filter(Boolean);
      lines.push(`  ${r.company_name}: ${gaps.join('; ')}`);
    }
  }
  if (notFound.length) {
    lines.push('', 'Not found:');
    for (const r of notFound) lines.push(`  ${r.company_name}: ${r.quality_issues[0] ?? 'nothing found'}`);
  }
  const doubtful = completed.filter((r) => r.quality_issues.length);
  if (doubtful.length) {
    lines.push('', 'Quality issues:');
    for (const r of doubtful) lines.push(`  ${r.company_name}: ${r.quality_issues.join('; ')}`);
  }
  if (failed.length) {
    lines.push('', 'Failed:');
    for (const r of failed) lines.push(`  ${r.company_name}: ${r.failure_reason}`);
  }
  return lines.join('\n');
}


function readCompaniesFile(companiesFile: string): CompanyInput[] {
  if (!existsSync(companiesFile)) fail(`companies file ${companiesFile} does not exist`);
  let companies: CompanyInput[];
  try {
    companies = readCompanies(readFileSync(companiesFile, 'utf8'), companiesFile);
  } catch (error) {
    fail((error as Error).message);
  }
  if (companies.length === 0) fail(`${companiesFile} lists no companies`);
  // A bad entry (a domain that is no host name) is refused here, before the local runtime starts, as the API would.
  companies.forEach((company, i) => {
    const checked = companyInputSchema.safeParse(company);
    if (!checked.success) fail(`${companiesFile}: company ${i + 1}: ${describeZodError(checked.error)}`);
  });
  return companies;
}

interface RunOptions {
  schema?: string;
  tier?: string;
  maxIterations?: string;
  maxQueries?: string;
  maxCostUsd?: string;
  corpus?: string;
  out?: string;
  offline?: boolean;
  searchProvider?: string;
}

async function run(companiesFile: string, options: RunOptions): Promise<number> {
  if (!options.schema) fail('--schema is required: a JSON Schema of the fields to research');
  const companies = readCompaniesFile(companiesFile);
  const schema = readJson(options.schema, 'schema');
  const corpusDir = options.corpus ?? path.join(import.meta.dirname, '..', 'examples', 'corpus');
  const research = researchOptions(options);

  const started = Date.now();
  const runtime = await startLocalRuntime({ corpusDir, providers: options.offline ? 'stand-ins' : 'auto' });
  try {
    const realProviders = [process.env.TAVILY_API_KEY && 'Tavily', process.env.GEMINI_API_KEY && 'Gemini', 'Anthropic'].filter(Boolean).join(', ');
    process.stdout.write(`Dossier: ${companies.length} companies, providers: ${runtime.providers === 'real' ? realProviders : `local stand-ins over ${corpusDir}`}\n`);
    if (runtime.providers !== 'real' && !options.corpus) {
      // The example corpus knows only the invented companies of examples/: a user's own list would come back not found.
      process.stdout.write(
        'Note: searching the example corpus of invented companies. For real research set ANTHROPIC_API_KEY and TAVILY_API_KEY ' +
          '(or GEMINI_API_KEY); to search your own documents, give --corpus <folder>.\n',
      );
    }
    if (research.tier === 'economy' && companies.every((company) => typeof company === 'string' || !company.domain)) {
      // Economy's way under a search's price is the company's own site, which it reads only when given the domain.
      process.stdout.write(
        'Note: economy searches once for each company here. Give each company its domain (a domain column, or ' +
          '{"company_name", "domain"} objects) and economy reads its own site instead, with no search to pay for.\n',
      );
    }
    const submitted = await runtime.api.submitBatch({ companies, extraction_schema: schema, ...research });
    if (submitted.statusCode !== 202) {
      process.stderr.write(`dossier: the batch was refused (${submitted.statusCode}): ${submitted.body?.message ?? JSON.stringify(submitted.body)}\n`);
      return 2;
    }
    const jobId: string = submitted.body.job_id;
    process.stdout.write(`Job ${jobId}\n`);

    // Progress is read the way a client of the API would: GET /jobs/{job_id}, until the execution ends.
    let finished = false;
    const execution = runtime.waitForJob(jobId).finally(() => (finished = true));
    const tty = process.stdout.isTTY;
    let last = '';
    while (!finished) {
      const line = progressLine((await runtime.api.getJob(jobId)).body as JobView);
      if (line !== last) process.stdout.write(tty ? `\r${line}` : `${line}\n`);
      last = line;
      await Promise.race([execution, new Promise((resolve) => setTimeout(resolve, 250))]);
    }
    const outcome = await execution;
    const view = (await runtime.api.getJob(jobId)).body as JobView;
    process.stdout.write(`${tty ? '\r' : ''}${progressLine(view)}\n`);
    if (outcome.status !== 'SUCCEEDED') {
      process.stderr.write(`dossier: the batch failed: ${outcome.error}: ${outcome.cause}\n`);
      return 1;
    }

    const outDir = path.join(options.out ?? 'out', jobId);
    mkdirSync(outDir, { recursive: true });
    const jsonl = (await runtime.results.getText(jobKeys.jsonl(jobId)))!;
    writeFileSync(path.join(outDir, 'results.jsonl'), jsonl);
    writeFileSync(path.join(outDir, 'results.csv'), (await runtime.results.getText(jobKeys.csv(jobId)))!);
    const results = jsonl.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as CompanyResult);
    process.stdout.write(`${summary(results, schema as ExtractionSchema, (Date.now() - started) / 1000)}\n\nResults: ${outDir}/results.jsonl and results.csv\n`);
    return 0;
  } finally {
    await runtime.stop();
  }
}


async function serve(options: { corpus?: string; offline?: boolean; port?: string }): Promise<number> {
  const first = integerOption(options.port, 'port');
  if (first !== undefined && (first < 1024 || first > 65530)) fail('--port must be between 1024 and 65530');
  const corpusDir = options.corpus ?? path.join(import.meta.dirname, '..', 'examples', 'corpus');
  if (!existsSync(corpusDir)) fail(`corpus folder ${corpusDir} does not exist`);

  const { startLocalServices } = await import('../local/local-services');
  const services = await startLocalServices({ corpusDir, providers: options.offline ? 'stand-ins' : 'auto', ports: first ? { first } : undefined });
  const token = await services.issuer.mintToken();
  const lines = ['Dossier is serving on this machine.', '', 'A2A agents (cards are public; JSON-RPC needs the token):'];
  for (const agent of services.agents) {
    const card = (await (await fetch(agent.cardUrl, { headers: { 'A2A-Version': '1.0' } })).json()) as { name: string; skills: { id: string }[] };
    lines.push(`  ${card.name.padEnd(28)} ${agent.cardUrl}   skills: ${card.skills.map((s) => s.id).join(', ')}${agent.streaming ? '   (streams)' : ''}`);
  }
  lines.push(
    '',
    `REST API: ${services.restUrl}   (${services.restRoutes.join(', ')}; the same token)`,
    '',
    `Token endpoint (OAuth2 client credentials): ${services.issuer.tokenUrl}`,
    `  client id ${services.issuer.clientId}   client secret ${services.issuer.clientSecret}`,
    '',
    'Bearer token (valid one hour):',
    token,
    '',
    'Try:',
    `  curl -s ${services.agents[0]?.url}/ -H "Authorization: Bearer $TOKEN" -H 'A2A-Version: 1.0' -H 'content-type: application/json' \\`,
    `    -d '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m1","role":"ROLE_USER","parts":[{"data":{"company_name":"Brightgull Robotics","extraction_schema":{"type":"object","properties":{"ceo":{"type":"string"}}}}}]}}}'`,
    '',
    'Ctrl-C stops everything.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('\nStopping…\n');
  await services.stop();
  return 0;
}


// ── Commands for the REST API (a deployed stack, or `dossier serve`) ──────────────────────────────

function remoteApi(options: { api?: string }): DossierApi {
  const url = options.api ?? process.env.DOSSIER_API_URL;
  if (!url) fail('name the API: --api <url> or DOSSIER_API_URL (the stack prints ApiUrl; `npm run serve` prints its REST API)');
  try {
    new URL(url);
  } catch {
    fail(`--api ${url} is not a URL`);
  }
  try {
    return new DossierApi(url, tokenSourceFromEnvironment());
  } catch (error) {
    fail((error as Error).message);
  }
}

const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Follows a job until it ends, with a progress bar on a terminal and a line per change otherwise. */
async function watch(api: DossierApi, jobId: string, intervalMs = 1_000): Promise<JobView> {
  const tty = !!process.stdout.isTTY;
  const bar = tty ? new SingleBar({ format: '{bar} {value}/{total}  completed {completed}  failed {failed}  ({status})', hideCursor: true }, Presets.shades_classic) : undefined;
  let view = await api.job(jobId);
  bar?.start(view.progress.total, 0, { completed: 0, failed: 0, status: view.status.toLowerCase() });
  let last = '';
  while (true) {
    const { completed, failed } = view.progress;
    if (bar) bar.update(completed + failed, { completed, failed, status: view.status.toLowerCase() });
    else {
      const line = progressLine(view);
      if (line !== last) process.stdout.write(`${line}\n`);
      last = line;
    }
    if (ENDED.has(view.status)) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    view = await api.job(jobId);
  }
  bar?.stop();
  return view;
}

async function download(api: DossierApi, jobId: string, out: string): Promise<string> {
  const { results } = await api.results(jobId);
  const dir = path.join(out, jobId);
  mkdirSync(dir, { recursive: true });
  for (const [name, url] of [['results.jsonl', results.jsonl], ['results.csv', results.csv]] as const) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`downloading ${name}: HTTP ${response.status}`);
    writeFileSync(path.join(dir, name), Buffer.from(await response.arrayBuffer()));
  }
  return dir;
}

const withApiErrors = (action: () => Promise<number>) => async (): Promise<number> => {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ApiError) {
      process.stderr.write(`dossier: ${error.message}\n`);
      // A refusal of what was sent (4xx) is the user's to fix; anything else may pass.
      return error.status >= 400 && error.status < 500 ? 2 : 1;
    }
    throw error;
  }
};

function program(): Command {
  const cli = new Command('dossier')
    .description('Company research at batch scale.')
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;
  const set = (code: number): void => {
    exitCode = code;
  };
  // An API command's answer is its exit code; an API refusal becomes a message and exit 2 (see withApiErrors).
  const apiAction =
    <A extends any[]>(run: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> =>
      set(await withApiErrors(() => run(...args))());

  cli
    .command('run')
    .description('research the companies of a file on this machine; writes out/<job_id>/results.jsonl and results.csv')
    .argument('<companies-file>', 'one name per line, a CSV with a company_name, company or name column (and optionally domain), or a JSON list')
    .option('--schema <file>', 'JSON Schema of the fields to research (required)')
    .option('--tier <tier>', 'cost tier: economy, standard or deep (default standard; README, "Cost")')
    .option('--max-iterations <n>', 'research → extraction → reflection rounds per company, 1–5 (default: the tier\'s)')
    .option('--max-queries <n>', 'search queries per round, 1–10 (default: the tier\'s)')
    .option('--max-cost-usd <dollars>', 'stop spending once the job has cost this many US dollars: the companies left end failed (budget_exhausted)')
    .option('--corpus <folder>', 'your own documents (.md/.txt) for the offline search stand-in (default: examples/corpus)')
    .option('--search-provider <name>', 'tavily (default), google (Gemini with Google Search) or hybrid (both, one covering for the other)')
    .option('--offline', 'use the stand-ins even if provider keys are set')
    .option('--out <folder>', 'where results go', 'out')
    .addHelpText(
      'after',
      '\nWith ANTHROPIC_API_KEY and TAVILY_API_KEY and/or GEMINI_API_KEY in the environment the run uses the real providers;\n' +
        'hybrid then searches with the search keys there are.',
    )
    .action(async (file: string, options: RunOptions) => set(await run(file, options)));

  cli
    .command('serve')
    .description('the four A2A agents and the REST API on 127.0.0.1, with a token; Ctrl-C stops everything')
    .option('--corpus <folder>', 'documents for the offline search stand-in (default: examples/corpus)')
    .option('--offline', 'use the stand-ins even if provider keys are set')
    .option('--port <n>', 'first port to use (default: any free ports)')
    .action(async (options) => set(await serve(options)));

  const apiOption = ['--api <url>', 'the REST API (default: DOSSIER_API_URL)'] as const;
  cli
    .command('submit')
    .description('submit a batch to the REST API; prints the job id')
    .argument('<companies-file>', 'one name per line, a CSV with a company_name, company or name column (and optionally domain), or a JSON list')
    .option(...apiOption)
    .option('--schema <file>', 'JSON Schema of the fields to research (required)')
    .option('--tier <tier>', 'cost tier: economy, standard or deep (default standard; README, "Cost")')
    .option('--max-iterations <n>', 'rounds per company, 1–5')
    .option('--max-queries <n>', 'search queries per round, 1–10')
    .option('--max-cost-usd <dollars>', 'stop spending once the job has cost this many US dollars: the companies left end failed (budget_exhausted)')
    .option('--search-provider <name>', 'tavily (default), google or hybrid')
    .option('--idempotency-key <key>', 'the same key and body never start a job twice')
    .option('--watch', 'follow the job until it ends')
    .action(
      apiAction(async (file: string, options) => {
        if (!options.schema) fail('--schema is required: a JSON Schema of the fields to research');
        const companies = readCompaniesFile(file);
        const schema = readJson(options.schema, 'schema');
        const research = researchOptions(options);
        const api = remoteApi(options);
        const job = await api.submitBatch({ companies, extraction_schema: schema, ...research }, options.idempotencyKey);
        process.stdout.write(`${job.job_id}\n`);
        if (!options.watch) return 0;
        const view = await watch(api, job.job_id);
        return view.status === 'COMPLETED' ? 0 : 1;
      }),
    );

  cli
    .command('watch')
    .description('follow a job until it ends (exit 0 when it completed)')
    .argument('<job-id>')
    .option(...apiOption)
    .action(
      apiAction(async (jobId: string, options) => {
        const view = await watch(remoteApi(options), jobId);
        process.stdout.write(`${jobId}: ${view.status.toLowerCase()}${view.error ? `: ${view.error}` : ''}\n`);
        return view.status === 'COMPLETED' ? 0 : 1;
      }),
    );

  cli
    .command('cancel')
    .description('cancel a running batch: it stops and ends CANCELLED, companies already counted stay counted')
    .argument('<job-id>')
    .option(...apiOption)
    .action(
      apiAction(async (jobId: string, options) => {
        const view = await remoteApi(options).cancel(jobId);
        process.stdout.write(`${progressLine(view)}\n`);
        return 0;
      }),
    );

  cli
    .command('redrive')
    .description("run an ended batch's failed and unfinished companies again, under the same job")
    .argument('<job-id>')
    .option(...apiOption)
    .option('--watch', 'follow the job until it ends')
    .action(
      apiAction(async (jobId: string, options) => {
        const api = remoteApi(options);
        const { redriven_companies } = await api.redrive(jobId);
        process.stdout.write(`${jobId}: ${redriven_companies} ${redriven_companies === 1 ? 'company runs' : 'companies run'} again\n`);
        if (!options.watch) return 0;
        const view = await watch(api, jobId);
        return view.status === 'COMPLETED' ? 0 : 1;
      }),
    );

  cli
    .command('results')
    .description("download a job's results.jsonl and results.csv")
    .argument('<job-id>')
    .option(...apiOption)
    .option('--out <folder>', 'where results go', 'out')
    .action(
      apiAction(async (jobId: string, options) => {
        const dir = await download(remoteApi(options), jobId, options.out);
        process.stdout.write(`${dir}/results.jsonl and results.csv\n`);
        return 0;
      }),
    );

  cli
    .command('single')
    .description("research one company in real time and print its result (JSON)")
    .argument('<company-name>')
    .option(...apiOption)
    .option('--schema <file>', 'JSON Schema of the fields to research (required)')
    .option('--tier <tier>', 'cost tier: economy, standard or deep (default standard; README, "Cost")')
    .option('--max-iterations <n>', 'rounds, 1–5')
    .option('--max-queries <n>', 'search queries per round, 1–10')
    .action(
      apiAction(async (name: string, options) => {
        if (!options.schema) fail('--schema is required: a JSON Schema of the fields to research');
        const schema = readJson(options.schema, 'schema');
        const research = researchOptions(options);
        const api = remoteApi(options);
        const answer = await api.single({ company_name: name, extraction_schema: schema, ...research });
        if (answer.status === 200) {
          process.stdout.write(`${JSON.stringify(answer.result, null, 2)}\n`);
          return answer.result.status === 'completed' ? 0 : 1;
        }
        // It outlasted the API's time limit: it goes on as a job of one company.
        process.stderr.write(`still researching; following job ${answer.job.job_id}\n`);
        const view = await watch(api, answer.job.job_id);
        if (view.status !== 'COMPLETED') return 1;
        const { results } = await api.results(answer.job.job_id);
        process.stdout.write(`${JSON.stringify(JSON.parse((await (await fetch(results.jsonl)).text()).trim()), null, 2)}\n`);
        return 0;
      }),
    );

  return Object.assign(cli, { exitCode: () => exitCode });
}

async function main(): Promise<number> {
  const cli = program() as Command & { exitCode: () => number };
  if (process.argv.length <= 2) {
    cli.outputHelp();
    return 2;
  }
  try {
    await cli.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are answers; anything else commander refused is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? 0 : 2;
    }
    throw error;
  }
  return cli.exitCode();
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`dossier: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
