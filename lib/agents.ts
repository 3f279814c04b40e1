/** The Lambda functions of the pipeline: the three agents, storage, and the assembly after the map. */
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { jobKeyPatterns } from '../lambdas/core/job-layout';
import { DEFAULT_PROVIDER_LIMITS, PROVIDER_LIMIT_ENVIRONMENT, type ProviderLimitName } from '../lambdas/core/provider-limits';
import { AgentFunction } from './agent-function';
import { grantListing, grantObjects, grantTable } from './grants';
import { limitSetting } from './settings';

/** What the storage and assembly steps write: the companies' results and the results files. */
const RESULT_KEYS = [jobKeyPatterns.result, jobKeyPatterns.jsonl, jobKeyPatterns.csv];

export interface AgentsProps {
  jobsTable: ITable;
  /** The search cache, and the research steps' search journal. */
  searchCacheTable: ITable;
  /** Counters of the providers' shared rate limits. */
  rateLimitsTable: ITable;
  bucket: IBucket;
  /** The Claude model of each class; a job's tier picks the class for each step. */
  llmModels: { small: string; large: string };
  /**
   * The provider keys' limits, per minute, that all agents together keep to. By default the context's
   * `-c searchRequestsPerMinute=… -c llmRequestsPerMinute=… -c llmInputTokensPerMinute=… -c llmOutputTokensPerMinute=…
   * -c geminiRequestsPerMinute=…`, else lambdas/core/provider-limits.ts's (a production Tavily key, Anthropic's Tier 2,
   * a Gemini project on Tier 1).
   */
  providerLimits?: Partial<Record<ProviderLimitName, number>>;
}

export class Agents extends Construct {
  readonly research: AgentFunction;
  readonly extraction: AgentFunction;
  readonly reflection: AgentFunction;
  readonly storage: AgentFunction;
  readonly assemble: AgentFunction;
  readonly tavilySecret: Secret;
  readonly anthropicSecret: Secret;
  readonly geminiSecret: Secret;

  constructor(scope: Construct, id: string, props: AgentsProps) {
    super(scope, id);
    // Created empty; after deploying, put the keys in with `aws secretsmanager put-secret-value` (see README).
    // Functions get the ARN, never the key itself.
    this.tavilySecret = new Secret(this, 'TavilyApiKey', { description: 'Tavily API key used by the research agent' });
    this.anthropicSecret = new Secret(this, 'AnthropicApiKey', { description: 'Anthropic API key used by the research, extraction and reflection agents' });
    // Left empty, `hybrid` searches with Tavily alone and `google` research fails with the reason.
    this.geminiSecret = new Secret(this, 'GeminiApiKey', { description: 'Gemini API key used by the research agent for Google Search grounding' });

    const data = { BUCKET_NAME: props.bucket.bucketName, JOBS_TABLE_NAME: props.jobsTable.tableName };
    // The limits go to both functions that call a provider; the Anthropic ones must agree, they share the budget.
    const limits = Object.fromEntries(
      (Object.keys(DEFAULT_PROVIDER_LIMITS) as ProviderLimitName[]).map((name) => [
        PROVIDER_LIMIT_ENVIRONMENT[name],
        String(limitSetting(this, name, props.providerLimits?.[name], DEFAULT_PROVIDER_LIMITS[name])),
      ]),
    );
    // The model and its pacing: every function that calls Claude shares the one budget.
    const model = {
      ANTHROPIC_SECRET_ARN: this.anthropicSecret.secretArn,
      LLM_SMALL_MODEL: props.llmModels.small,
      LLM_LARGE_MODEL: props.llmModels.large,
      PACING_TABLE_NAME: props.rateLimitsTable.tableName,
      ...limits,
    };
    const providers = { TAVILY_SECRET_ARN: this.tavilySecret.secretArn, ...model };

    // Timeouts are the seed's: research 120 s, extraction 60 s, reflection 30 s.
    this.research = new AgentFunction(this, 'Research', {
      handler: 'research',
      description: 'Dossier research agent: searches the web and writes cited notes',
      timeout: Duration.seconds(120),
      memorySize: 1024,
      environment: {
        ...data,
        ...providers,
        GEMINI_SECRET_ARN: this.geminiSecret.secretArn,
        SEARCH_CACHE_TABLE_NAME: props.searchCacheTable.tableName,
        SEARCH_JOURNAL_TABLE_NAME: props.searchCacheTable.tableName,
      },
    });
    this.extraction = new AgentFunction(this, 'Extraction', {
      handler: 'extraction',
      description: "Dossier extraction agent: fills the schema from the pages research read, each value with a passage of its page",
      timeout: Duration.seconds(60),
      environment: { ...data, ...providers },
    });
    this.reflection = new AgentFunction(this, 'Reflection', {
      handler: 'reflection',
      description: 'Dossier reflection agent: scores completeness, checks the evidence and plans follow-up queries',
      timeout: Duration.seconds(30),
      memorySize: 256,
      // A model only for what rules cannot judge (do two sources agree?): the Anthropic key, not the search keys.
      environment: { ...data, ...model },
    });
    this.storage = new AgentFunction(this, 'Storage', {
      handler: 'store-result',
      description: "Dossier storage: writes a company's result and counts it in the job",
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: data,
    });
    this.assemble = new AgentFunction(this, 'Assemble', {
      handler: 'assemble-results',
      description: 'Dossier assembly: results.jsonl and results.csv of a job',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment: data,
    });

    this.tavilySecret.grantRead(this.research);
    this.geminiSecret.grantRead(this.research);
    this.anthropicSecret.grantRead(this.research);
    this.anthropicSecret.grantRead(this.extraction);
    this.anthropicSecret.grantRead(this.reflection);
    // The keys are issued by Tavily and Anthropic: a new key is made at the provider and put in by hand (README).
    for (const secret of [this.tavilySecret, this.anthropicSecret, this.geminiSecret]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'A third-party API key: only the provider can issue a new one, so a rotation function has nothing to do; a new key is put in with put-secret-value',
      });
    }

    // Raw search results (lambdas/store/result-store.ts putRawResults); the search cache is read and written by key.
    grantObjects(this.research, props.bucket, ['s3:PutObject'], [jobKeyPatterns.rawResults]);
    grantTable(this.research, props.searchCacheTable, ['GetItem', 'PutItem']);
    // A capped batch's company reads the job and its spend before it starts (max_cost_usd).
    grantTable(this.research, props.jobsTable, ['GetItem', 'BatchGetItem']);

    // One company's result, then its count in the job (countOutcomeAndRead: a conditional UpdateItem, a GetItem when
    // it was counted before); a job of one company it also closes: results files, markCompleted.
    grantObjects(this.storage, props.bucket, ['s3:PutObject'], RESULT_KEYS);
    // Counting updates a progress item; closing a job of one company reads the job and its progress first.
    grantTable(this.storage, props.jobsTable, ['UpdateItem', 'GetItem', 'BatchGetItem']);

    // Reads the manifest and lists and reads the stored results; records a missing company as failed and writes the
    // results files. Nothing is deleted.
    grantObjects(this.assemble, props.bucket, ['s3:GetObject'], [jobKeyPatterns.manifest, jobKeyPatterns.result]);
    grantObjects(this.assemble, props.bucket, ['s3:PutObject'], RESULT_KEYS);
    grantListing(this.assemble, props.bucket, jobKeyPatterns.resultsPrefix);
    // Reconciling the counters reads every progress item of the job (BatchGetItem) and counts what they lack.
    grantTable(this.assemble, props.jobsTable, ['UpdateItem', 'GetItem', 'BatchGetItem']);
    // The results files are multipart uploads: one that fails is aborted rather than left to the lifecycle rule.
    grantObjects(this.assemble, props.bucket, ['s3:AbortMultipartUpload'], [jobKeyPatterns.jsonl, jobKeyPatterns.csv]);

    // The providers' shared rate limits (lambdas/store/rate-limit-store.ts): conditional ADDs on the limit's slots.
    grantTable(this.research, props.rateLimitsTable, ['UpdateItem']);
    grantTable(this.extraction, props.rateLimitsTable, ['UpdateItem']);
    grantTable(this.reflection, props.rateLimitsTable, ['UpdateItem']);

    // Extraction checks every quoted passage against the page texts research stored.
    grantObjects(this.extraction, props.bucket, ['s3:GetObject'], [jobKeyPatterns.rawResults]);
  }
}
