/** The Lambda functions of the pipeline: the three agents, storage, and the assembly after the map. */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AgentFunction } from './agent-function';

export interface AgentsProps {
  jobsTable: ITable;
  searchCacheTable: ITable;
  bucket: IBucket;
  /** The Claude model of each class; a job's tier picks the class for each step. */
  llmModels: { small: string; large: string };
}

export class Agents extends Construct {
  readonly research: AgentFunction;
  readonly extraction: AgentFunction;
  readonly reflection: AgentFunction;
  readonly storage: AgentFunction;
  readonly assemble: AgentFunction;
  readonly tavilySecret: Secret;
  readonly anthropicSecret: Secret;

  constructor(scope: Construct, id: string, props: AgentsProps) {
    super(scope, id);
    // Created empty; after deploying, put the keys in with `aws secretsmanager put-secret-value` (see README).
    // Functions get the ARN, never the key itself.
    this.tavilySecret = new Secret(this, 'TavilyApiKey', { description: 'Tavily API key used by the research agent' });
    this.anthropicSecret = new Secret(this, 'AnthropicApiKey', { description: 'Anthropic API key used by the research and extraction agents' });

    const data = { BUCKET_NAME: props.bucket.bucketName, JOBS_TABLE_NAME: props.jobsTable.tableName };
    const providers = {
      TAVILY_SECRET_ARN: this.tavilySecret.secretArn,
      ANTHROPIC_SECRET_ARN: this.anthropicSecret.secretArn,
      LLM_SMALL_MODEL: props.llmModels.small,
      LLM_LARGE_MODEL: props.llmModels.large,
    };

    // Timeouts are the seed's: research 120 s, extraction 60 s, reflection 30 s.
    this.research = new AgentFunction(this, 'Research', {
      handler: 'research',
      description: 'Dossier research agent: searches the web and writes cited notes',
      timeout: Duration.seconds(120),
      memorySize: 1024,
      environment: { ...data, ...providers, SEARCH_CACHE_TABLE_NAME: props.searchCacheTable.tableName },
    });
    this.extraction = new AgentFunction(this, 'Extraction', {
      handler: 'extraction',
      description: 'Dossier extraction agent: fills the schema from the notes',
      timeout: Duration.seconds(60),
      environment: { ...data, ...providers },
    });
    this.reflection = new AgentFunction(this, 'Reflection', {
      handler: 'reflection',
      description: 'Dossier reflection agent: scores completeness and plans follow-up queries',
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: data,
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
    this.anthropicSecret.grantRead(this.research);
    this.anthropicSecret.grantRead(this.extraction);
    props.bucket.grantPut(this.research, 'search-results/*');
    // A job's spend so far, read before each round when the job has a spending cap (lambdas/shared/budget.ts).
    props.jobsTable.grantReadData(this.research);
    props.searchCacheTable.grantReadWriteData(this.research);
    props.bucket.grantPut(this.storage, 'jobs/*');
    props.jobsTable.grantReadWriteData(this.storage);
    props.bucket.grantReadWrite(this.assemble, 'jobs/*');
    props.jobsTable.grantReadWriteData(this.assemble);
  }
}
