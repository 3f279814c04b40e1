/**
 * Dossier on one machine: the state machines synthesized from the CDK app (the coordinator and the company
 * machine), run by aws-local-stepfunctions behind one local Step Functions endpoint;
 * the same handler code in-process; DynamoDB and S3 embedded; the providers (Tavily, Gemini, Anthropic) either real
 * (when the Anthropic key and a search key are set) or local stand-ins answering from a corpus of documents.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { resetAwsClients, s3Client } from '../lambdas/shared/aws-clients';
import { redriveExecutionName } from '../lambdas/core/job-layout';
import { ResultStore } from '../lambdas/store/result-store';
import { activateCrashPoints, type CrashPlan } from './crash-injection';
import { emulateDistributedMaps } from './distributed-map';
import { startEmbeddedAws } from './embedded-aws';
import { loadCorpus } from './stand-ins/corpus';
import type { FaultRule, RequestRecord, StandIn } from './stand-ins/faults';
import type { StandInLimits } from './stand-ins/rate-limits';
import { createFaultDice, type FaultDice, type FaultKind, type FaultRates } from './stand-ins/fault-rates';
import { startAnthropicStandIn } from './stand-ins/anthropic-stand-in';
import { startGeminiStandIn, type GeminiStandIn } from './stand-ins/gemini-stand-in';
import { startTavilyStandIn } from './stand-ins/tavily-stand-in';
import { startWebStandIn } from './stand-ins/web-stand-in';
import { startSecretsManagerServer } from './secrets-manager-server';
import { StepFunctionsServer, type ExecutionEndListener, type LocalExecution, type LocalStateMachineConfig } from './step-functions-server';
import { lambdaContext, localTaskHandlers, type TaskTiming } from './task-handlers';
import {
  LOCAL_REGION,
  localFunctions,
  stateMachineByRole,
  stateMachines,
  synthesizeTemplate,
  type LocalFunction,
  type LocalStateMachine,
} from './template';

export interface LocalRuntimeOptions {
  /** Documents the search stand-in answers from. Required unless real providers are used. */
  corpusDir?: string;
  /**
   * 'auto' uses the real providers when ANTHROPIC_API_KEY and a search key (TAVILY_API_KEY, GEMINI_API_KEY or both)
   * are set; `hybrid` research then searches with the keys there are.
   */
  providers?: 'auto' | 'stand-ins';
  /** Failures the stand-ins inject, to see retries and failure handling. */
  faults?: { tavily?: FaultRule[]; anthropic?: FaultRule[]; gemini?: FaultRule[] };
  /** Failures the stand-ins inject at rates, drawn from a seed (local/stand-ins/fault-rates.ts). */
  randomFaults?: { tavily?: FaultRates; anthropic?: FaultRates; gemini?: FaultRates };
  /** Simulated round-trip time of each stand-in provider call (benchmarks); none by default. */
  standInLatencyMs?: { tavily?: number; anthropic?: number; gemini?: number; web?: number };
  /** Rate limits the stand-ins enforce themselves, and 429s they answer at a given rate. */
  standInLimits?: { tavily?: StandInLimits; anthropic?: StandInLimits; gemini?: StandInLimits };
  /** CDK context for the synthesized app, as `-c name=value` gives it (e.g. `{ searchRequestsPerMinute: 600 }`). */
  context?: Record<string, unknown>;
  /** Lambda task invocations that die like crashed runtimes (local/crash-injection.ts); none by default. */
  crashes?: CrashPlan;
  /** Told of every Lambda task's start and end (benchmarks: where a batch's time goes); nothing by default. */
  onTaskTiming?: (timing: TaskTiming) => void;
  /** Replaces every Retry wait (milliseconds); tests set 0. By default the definition's backoff applies. */
  retryIntervalMs?: number;
  /** The DynamoDB search cache; on by default, as deployed. Benchmarks turn it off to measure real searches. */
  searchCache?: boolean;
  /** DynamoDB's items on disk rather than in memory (large benchmarks); in memory by default. */
  dynamodbOnDisk?: boolean;
  /** Handler log level (Powertools); WARN by default to keep the terminal readable. */
  logLevel?: string;
  /** Companies researched at once (the Map's MaxConcurrency, as `cdk deploy -c maxConcurrency=…` sets it). */
  maxConcurrency?: number;
}

export interface ApiResponse {
  statusCode: number;
  body: any;
}

export interface LocalRuntime {
  providers: 'real' | 'stand-ins';
  bucket: string;
  results: ResultStore;
  /** The deployed API's routes, served by the same handlers. */
  api: {
    submitBatch(body: unknown, headers?: Record<string, string>, caller?: string): Promise<ApiResponse>;
    getJob(jobId: string, caller?: string): Promise<ApiResponse>;
  };
  /**
   * Requests the stand-ins have answered so far (undefined with real providers); Gemini's are its generateContent
   * calls, without the grounding redirects the adapter follows; `web`'s are the company-site pages (and robots.txt
   * files) read.
   */
  standInRequests(): { tavily: number; anthropic: number; gemini: number; web: number } | undefined;
  /** Every request the stand-ins received, with its arrival time and status (undefined with real providers). */
  standInLog(): { tavily: readonly RequestRecord[]; anthropic: readonly RequestRecord[] } | undefined;
  /** Faults the stand-ins injected at rates (`randomFaults`) so far, by kind (undefined with real providers). */
  injectedFaults(): Record<'tavily' | 'anthropic' | 'gemini', Readonly<Record<FaultKind, number>>> | undefined;
  /**
   * Resolves when the job's latest execution (of the coordinator: the batch's, or its last redrive's) ends, and a
   * stopped one's last tasks have finished.
   */
  waitForJob(jobId: string): Promise<LocalExecution>;
  /** The coordinator's ARN (STANDARD, one batch); also STATE_MACHINE_ARN in the environment. */
  coordinatorArn: string;
  /** The company machine's ARN (EXPRESS, one company); also COMPANY_STATE_MACHINE_ARN in the environment. */
  companyMachineArn: string;
  /** Every state machine of the template, as the local endpoint serves it (definitions before the local rewrite). */
  stateMachines: LocalStateMachine[];
  /**
   * Calls `listener` once for every execution that ends, with its final status, before its `done` settles
   * (on AWS only STANDARD executions reach EventBridge: filter on `stateMachineType`). Returns an unsubscribe.
   */
  onExecutionEnd(listener: ExecutionEndListener): () => void;
  stop(): Promise<void>;
}

/** The environment every function would get on AWS, merged; two functions disagreeing on a value is a bug. */
function functionEnvironment(functions: LocalFunction[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const fn of functions) {
    for (const [key, value] of Object.entries(fn.environment)) {
      if (key === 'NODE_OPTIONS') continue;
      if (merged[key] !== undefined && merged[key] !== value) {
        throw new Error(`local runtime: functions disagree on ${key} (${merged[key]} vs ${value})`);
      }
      merged[key] = value;
    }
  }
  return merged;
}

/**
 * Who calls the in-process API (the CLI, tests) when no one says: deployed, the authorizer puts a token's subject
 * here; in-process there is no token, as with IAM-signed calls.
 */
export const LOCAL_CALLER = 'local-cli';

function apiEvent(method: string, resource: string, path: string, caller: string, init: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    resource,
    path,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: crypto.randomUUID(), stage: 'local', httpMethod: method, path, resourcePath: resource, authorizer: { sub: caller } } as any,
    ...init,
  };
}

function parseResponse(result: APIGatewayProxyResult): ApiResponse {
  return { statusCode: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  // The SDK's notice about Node 20 support says nothing about this run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const template = synthesizeTemplate(options.context, { maxConcurrency: options.maxConcurrency });
  const functions = localFunctions(template);
  const machines = stateMachines(template);
  const coordinator = stateMachineByRole(template, 'coordinator');
  const companyMachine = stateMachineByRole(template, 'company');
  const aws = await startEmbeddedAws(template, { dynamodbOnDisk: options.dynamodbOnDisk });
  let standIns: { tavily: StandIn; anthropic: StandIn; gemini: GeminiStandIn; web: StandIn } | undefined;
  let dice: Record<'tavily' | 'anthropic' | 'gemini', FaultDice> | undefined;

  const useReal =
    options.providers !== 'stand-ins' && !!process.env.ANTHROPIC_API_KEY && !!(process.env.TAVILY_API_KEY || process.env.GEMINI_API_KEY);
  const providerEnvironment: Record<string, string> = {};
  if (!useReal) {
    if (!options.corpusDir) throw new Error('local runtime: a corpus folder is needed when the real providers are not used');
    const documents = loadCorpus(options.corpusDir);
    // Made here rather than by each stand-in, so the runtime can report what they injected.
    dice = {
      tavily: createFaultDice(options.randomFaults?.tavily),
      anthropic: createFaultDice(options.randomFaults?.anthropic),
      gemini: createFaultDice(options.randomFaults?.gemini),
    };
    const tavily = await startTavilyStandIn({
      documents,
      apiKey: 'tvly-local',
      faults: options.faults?.tavily,
      randomFaults: dice.tavily,
      latencyMs: options.standInLatencyMs?.tavily,
      limits: options.standInLimits?.tavily,
    });
    const anthropic = await startAnthropicStandIn({
      apiKey: 'sk-ant-local',
      faults: options.faults?.anthropic,
      randomFaults: dice.anthropic,
      latencyMs: options.standInLatencyMs?.anthropic,
      limits: options.standInLimits?.anthropic,
    });
    const gemini = await startGeminiStandIn({
      documents,
      apiKey: 'gemini-local',
      faults: options.faults?.gemini,
      randomFaults: dice.gemini,
      latencyMs: options.standInLatencyMs?.gemini,
      limits: options.standInLimits?.gemini,
    });
    // Companies' own sites, for a tier that reads them (economy): the same pages, served as HTML at their URLs.
    const web = await startWebStandIn({ documents, latencyMs: options.standInLatencyMs?.web });
    standIns = { tavily, anthropic, gemini, web };
    Object.assign(providerEnvironment, {
      TAVILY_API_KEY: 'tvly-local',
      TAVILY_BASE_URL: tavily.url,
      ANTHROPIC_API_KEY: 'sk-ant-local',
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: 'gemini-local',
      GEMINI_BASE_URL: gemini.url,
      WEB_BASE_URL: web.url,
    });
  }

  // Every machine gets the same treatment; one without a Distributed Map comes out of the rewrite unchanged.
  const configs = machines.map((machine): LocalStateMachineConfig => {
    const { definition, emulations } = emulateDistributedMaps(machine.definition as any);
    const { taskHandlers, retryIntervalOverrides } = localTaskHandlers(definition, emulations, functions, options.retryIntervalMs, options.crashes, options.onTaskTiming);
    return { arn: machine.arn, type: machine.type, definition, taskHandlers, retryIntervalOverrides };
  });
  const deactivateCrashPoints = options.crashes ? activateCrashPoints() : undefined;
  const stepFunctions = new StepFunctionsServer({ stateMachines: configs });
  await stepFunctions.listen();
  // Webhook signing secrets live in Secrets Manager; API keys come from the environment locally.
  const secretsManager = await startSecretsManagerServer();

  const environment = functionEnvironment(functions);
  // A function's ARN of a machine resolves through the same naming as the server's; a mismatch is a bug.
  for (const [key, arn] of [['STATE_MACHINE_ARN', coordinator.arn], ['COMPANY_STATE_MACHINE_ARN', companyMachine.arn]] as const) {
    if (environment[key] !== undefined && environment[key] !== arn) {
      throw new Error(`local runtime: ${key} is ${environment[key]} in the template, but the machine is served as ${arn}`);
    }
  }
  const previousEnvironment = { ...process.env };
  Object.assign(process.env, environment, providerEnvironment, {
    STATE_MACHINE_ARN: coordinator.arn,
    COMPANY_STATE_MACHINE_ARN: companyMachine.arn,
    AWS_REGION: LOCAL_REGION,
    // s3rver accepts only its own fixed key pair; dynalite accepts any.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint,
    AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
    AWS_ENDPOINT_URL_SFN: stepFunctions.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? process.env.DOSSIER_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  delete process.env.AWS_PROFILE;
  if (options.searchCache === false) delete process.env.SEARCH_CACHE_TABLE_NAME;
  resetAwsClients();

  // Imported only now: the handlers read their environment when first loaded.
  const submit = await import('../lambdas/handlers/submit-batch');
  const jobStatus = await import('../lambdas/handlers/job-status');
  const bucket = process.env.BUCKET_NAME!;
  // API Gateway gives its Lambda integrations 29 seconds.
  const apiContext = (name: string) => lambdaContext(name, `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${name}`, 29_000) as any;

  return {
    providers: useReal ? 'real' : 'stand-ins',
    bucket,
    results: new ResultStore(s3Client(), bucket),
    api: {
      async submitBatch(body, headers = {}, caller = LOCAL_CALLER) {
        const event = apiEvent('POST', '/research/batch', '/research/batch', caller, {
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
        return parseResponse(await submit.handler(event, apiContext('SubmitBatch')));
      },
      async getJob(jobId, caller = LOCAL_CALLER) {
        const event = apiEvent('GET', '/jobs/{job_id}', `/jobs/${jobId}`, caller, { pathParameters: { job_id: jobId } });
        return parseResponse(await jobStatus.handler(event, apiContext('JobStatus')));
      },
    },
    injectedFaults() {
      return dice && { tavily: dice.tavily.injected, anthropic: dice.anthropic.injected, gemini: dice.gemini.injected };
    },
    standInRequests() {
      return standIns && { tavily: standIns.tavily.requests, anthropic: standIns.anthropic.requests, gemini: standIns.gemini.searches, web: standIns.web.requests };
    },
    standInLog() {
      return standIns && { tavily: standIns.tavily.log, anthropic: standIns.anthropic.log };
    },
    async waitForJob(jobId) {
      // The job's latest execution: its last redrive's, if it had any (lambdas/core/job-layout.ts names them).
      let execution = stepFunctions.execution(jobId, coordinator.arn);
      for (let n = 1; stepFunctions.execution(redriveExecutionName(jobId, n), coordinator.arn); n++) {
        execution = stepFunctions.execution(redriveExecutionName(jobId, n), coordinator.arn);
      }
      if (!execution) throw new Error(`no execution was started for job ${jobId}`);
      return stepFunctions.settled(execution);
    },
    coordinatorArn: coordinator.arn,
    companyMachineArn: companyMachine.arn,
    stateMachines: machines,
    onExecutionEnd: (listener) => stepFunctions.onExecutionEnd(listener),
    async stop() {
      await stepFunctions.close();
      await secretsManager.close();
      await Promise.all([standIns?.tavily.close(), standIns?.anthropic.close(), standIns?.gemini.close(), standIns?.web.close()]);
      await aws.stop();
      deactivateCrashPoints?.();
      for (const key of Object.keys(process.env)) if (!(key in previousEnvironment)) delete process.env[key];
      Object.assign(process.env, previousEnvironment);
      resetAwsClients();
    },
  };
}
