#!/usr/bin/env -S npx tsx
/**
 * The Dossier CLI. `run` researches a batch on this machine through the same path a deployed batch takes:
 * the submit handler, the state machine synthesized from the CDK app, the storage handlers.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { CompanyResult, ExtractionSchema, JobView } from '../lambdas/core/contracts';
import { recordProblems } from '../lambdas/core/json-schema';
import { jobKeys } from '../lambdas/core/job-layout';
import { startLocalRuntime } from '../local/runtime';
import { readCompanies } from '../local/companies-file';

const USAGE = `Usage: dossier run <companies-file> --schema <schema.json> [options]
       dossier serve [--corpus <folder>] [--offline] [--port <n>]   (the A2A agents and the API on localhost)

Researches every company in the file (one name per line, or a CSV with a company/company_name/name column)
and writes out/<job_id>/results.jsonl and results.csv.

Options:
  --schema <file>          JSON Schema of the fields to research (required)
  --max-iterations <n>     research → extraction → reflection rounds per company, 1–5 (default 2)
  --max-queries <n>        search queries per round, 1–10 (default 3)
  --corpus <folder>        your own documents (.md/.txt) for the offline search stand-in
                           (default: examples/corpus); ignored when real provider keys are set
  --offline                use the stand-ins even if TAVILY_API_KEY and ANTHROPIC_API_KEY are set
  --out <folder>           where results go (default: out)
  -h, --help               this text

With TAVILY_API_KEY and ANTHROPIC_API_KEY in the environment the run uses the real providers.`;

function fail(message: string): never {
  process.stderr.write(`dossier: ${message}\n`);
  process.exit(2);
}

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) fail(`${what} ${file} does not exist`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${what} ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) fail(`--${name} must be a whole number, got "${value}"`);
  return n;
}

function progressLine(view: JobView): string {
  const { total, completed, failed } = view.progress;
  const width = 30;
  const filled = total ? Math.round(((completed + failed) / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${completed + failed}/${total}  completed ${completed}  failed ${failed}  (${view.status.toLowerCase()})`;
}

function summary(results: CompanyResult[], schema: ExtractionSchema, seconds: number): string {
  const completed = results.filter((r) => r.status === 'completed');
  const failed = results.filter((r) => r.status === 'failed');
  const complete = completed.filter((r) => r.complete);
  const valid = completed.filter((r) => recordProblems(schema, r.data, { partial: false }).length === 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const cost = results.reduce((sum, r) => sum + r.cost.usd, 0);
  const lines = [
    '',
    `Companies: ${results.length}   completed: ${completed.length}   failed: ${failed.length}   (${seconds.toFixed(1)} s)`,
    `Schema-valid records: ${valid.length} of ${completed.length} completed${valid.length < completed.length ? ' (the others lack required fields)' : ''}`,
    `Complete records: ${complete.length}   mean completeness: ${mean(completed.map((r) => r.completeness_score)).toFixed(3)}   mean confidence: ${mean(completed.map((r) => r.confidence_score)).toFixed(2)}`,
    `Estimated provider cost: $${cost.toFixed(4)} ($${(results.length ? cost / results.length : 0).toFixed(4)} per company)`,
  ];
  const partial = completed.filter((r) => !r.complete);
  if (partial.length) {
    lines.push('', 'Incomplete records:');
    for (const r of partial) {
      lines.push(`  ${r.company_name}: ${Object.keys(r.data).length ? `missing ${r.missing_fields.join(', ')}` : 'nothing found'}`);
    }
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

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      schema: { type: 'string' },
      'max-iterations': { type: 'string' },
      'max-queries': { type: 'string' },
      corpus: { type: 'string' },
      out: { type: 'string' },
      offline: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [companiesFile] = positionals;
  if (!companiesFile) fail(`name a companies file\n\n${USAGE}`);
  if (!values.schema) fail('--schema is required: a JSON Schema of the fields to research');
  if (!existsSync(companiesFile)) fail(`companies file ${companiesFile} does not exist`);
  let companies: string[];
  try {
    companies = readCompanies(readFileSync(companiesFile, 'utf8'), companiesFile);
  } catch (error) {
    fail((error as Error).message);
  }
  if (companies.length === 0) fail(`${companiesFile} lists no companies`);
  const schema = readJson(values.schema, 'schema');
  const corpusDir = values.corpus ?? path.join(import.meta.dirname, '..', 'examples', 'corpus');

  const started = Date.now();
  const runtime = await startLocalRuntime({ corpusDir, providers: values.offline ? 'stand-ins' : 'auto' });
  try {
    process.stdout.write(`Dossier: ${companies.length} companies, providers: ${runtime.providers === 'real' ? 'Tavily and Anthropic' : `local stand-ins over ${corpusDir}`}\n`);
    const submitted = await runtime.api.submitBatch({
      companies,
      extraction_schema: schema,
      ...(values['max-iterations'] ? { max_iterations: integerOption(values['max-iterations'], 'max-iterations') } : {}),
      ...(values['max-queries'] ? { max_queries: integerOption(values['max-queries'], 'max-queries') } : {}),
    });
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

    const outDir = path.join(values.out ?? 'out', jobId);
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

const SERVE_USAGE = `Usage: dossier serve [--corpus <folder>] [--offline] [--port <first port>]

Starts the four A2A agents and the REST API on 127.0.0.1, backed by the local runtime, and prints each agent's
card URL and a bearer token (one hour). Ctrl-C stops everything.`;

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { corpus: { type: 'string' }, offline: { type: 'boolean' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const first = integerOption(values.port, 'port');
  if (first !== undefined && (first < 1024 || first > 65530)) fail('--port must be between 1024 and 65530');
  const corpusDir = values.corpus ?? path.join(import.meta.dirname, '..', 'examples', 'corpus');
  if (!existsSync(corpusDir)) fail(`corpus folder ${corpusDir} does not exist`);

  const { startLocalServices } = await import('../local/local-services');
  const services = await startLocalServices({ corpusDir, providers: values.offline ? 'stand-ins' : 'auto', ports: first ? { first } : undefined });
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

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'run':
      return run(rest);
    case 'serve':
      return serve(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`dossier: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
