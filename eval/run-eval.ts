/**
 * `npm run eval [-- --offline --tier standard --json out/eval.json]`: researches the labelled companies through the
 * local pipeline and prints precision, recall, evidence and excerpt checks per field, namesakes, not_found and cost.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { describeZodError, extractionSchemaSchema, tierSchema, type JobView } from '../lambdas/core/contracts';
import { loadCorpus } from '../local/stand-ins/corpus';
import { runEvaluation } from './evaluate';
import { formatReport } from './report';
import { checkLabels, labelsFileSchema } from './scoring';
import { cliInput } from '../bin/cli-input';

const cli = cliInput('eval');
// Annotated, so that TypeScript knows a call to fail ends the path.
const fail: (message: string) => never = cli.fail;
const readJson = cli.readJson;

const here = import.meta.dirname;
const program = new Command('eval')
  .description('Run the labelled companies through the pipeline and score the records against the labels')
  .option('--labels <file>', 'labels: companies and the true value of each field', path.join(here, 'labels.json'))
  .option('--corpus <folder>', 'pages the offline search stand-ins serve', path.join(here, 'corpus'))
  .option('--schema <file>', 'the JSON Schema researched', path.join(here, 'schema.json'))
  .option('--tier <tier>', `cost tier: ${tierSchema.options.join(', ')} (the API's default when not given)`)
  .option('--offline', 'use the local stand-ins even when provider keys are set')
  .option('--json <file>', 'also write the figures to this file as JSON')
  .showHelpAfterError();
program.parse();
const options = program.opts<{ labels: string; corpus: string; schema: string; tier?: string; offline?: boolean; json?: string }>();

// Everything is checked before the runtime (a CDK synthesis and a batch) starts.
const tier = options.tier === undefined ? undefined : tierSchema.safeParse(options.tier);
if (tier && !tier.success) fail(`--tier must be one of ${tierSchema.options.join(', ')}, got "${options.tier}"`);
const labels = labelsFileSchema.safeParse(readJson(options.labels, 'labels'));
if (!labels.success) fail(`labels ${options.labels}: ${describeZodError(labels.error)}`);
const schema = extractionSchemaSchema.safeParse(readJson(options.schema, 'schema'));
if (!schema.success) fail(`schema ${options.schema}: ${describeZodError(schema.error)}`);
const problems = checkLabels(labels.data, schema.data);
if (problems.length) fail(`labels ${options.labels} do not fit schema ${options.schema}:\n  ${problems.join('\n  ')}`);
const realKeys = !!process.env.ANTHROPIC_API_KEY && !!(process.env.TAVILY_API_KEY || process.env.GEMINI_API_KEY);
if (options.offline || !realKeys) {
  try {
    loadCorpus(options.corpus);
  } catch (error) {
    fail((error as Error).message);
  }
}
if (options.json) {
  const dir = path.dirname(path.resolve(options.json));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`--json: folder ${dir} does not exist`);
}

const tty = process.stdout.isTTY;
let last = '';
const progress = (view: JobView) => {
  const { total, completed, failed } = view.progress;
  const line = `${completed + failed}/${total} companies researched (${view.status.toLowerCase()})`;
  if (line !== last) process.stdout.write(tty ? `\r${line}` : `${line}\n`);
  last = line;
};

const run = await runEvaluation({
  labels: labels.data,
  schema: schema.data,
  corpusDir: options.corpus,
  tier: tier?.data,
  offline: !!options.offline,
  onProgress: progress,
});
if (tty) process.stdout.write('\n');
const providers = run.providers === 'real' ? 'real providers' : `stand-ins over ${path.relative(process.cwd(), path.resolve(options.corpus)) || '.'}`;
const heading = `Evaluation: ${labels.data.companies.length} companies, tier ${tier?.data ?? 'standard (default)'}, ${providers}, job ${run.jobId}, ${run.seconds.toFixed(1)} s`;
process.stdout.write(`\n${formatReport(run.report, heading)}\n`);
if (options.json) {
  writeFileSync(options.json, `${JSON.stringify({ heading, providers: run.providers, job_id: run.jobId, tier: tier?.data ?? null, ...run.report, results: run.results }, null, 2)}\n`);
  process.stdout.write(`\nFigures written to ${options.json}\n`);
}
