/**
 * The coordinator: a STANDARD state machine that records the job, fans the companies out over a Distributed Map
 * (research → extraction → reflection, looping on follow-up queries), then assembles the results.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Errors,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { DynamoAttributeValue, DynamoUpdateItem, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { zeroUsage } from '../lambdas/core/contracts';
import type { Agents } from './agents';

export interface WorkflowProps {
  agents: Agents;
  jobsTable: ITable;
  bucket: IBucket;
  /** How many companies run at once. Each runs its agents one after another. */
  maxConcurrency?: number;
}

/** Errors our handlers throw when a provider is rate-limited or down (see lambdas/providers/provider-error.ts). */
export const PROVIDER_THROTTLED = 'ProviderThrottled';
export const PROVIDER_UNAVAILABLE = 'ProviderUnavailable';

export class Workflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const { agents, jobsTable } = props;

    const agentTask = (name: string, fn: IFunction, payload: Record<string, unknown>, resultPath: string, timeout: Duration) => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        taskTimeout: Timeout.duration(timeout),
      });
      // Rate limits clear slowly: wait longer, spread the retries of many companies apart.
      task.addRetry({
        errors: [PROVIDER_THROTTLED, 'Lambda.TooManyRequestsException'],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 4,
        maxDelay: Duration.seconds(60),
        jitterStrategy: JitterType.FULL,
      });
      // Outages and slow calls: the task's own timeout, or the function's (Lambda reports Sandbox.Timedout).
      task.addRetry({
        errors: [PROVIDER_UNAVAILABLE, Errors.TIMEOUT, 'Sandbox.Timedout'],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        jitterStrategy: JitterType.FULL,
      });
      return task;
    };

    // ── One company ──────────────────────────────────────────────────────────────────
    const research = agentTask('Research', agents.research, {
      job_id: JsonPath.stringAt('$.job_id'),
      index: JsonPath.numberAt('$.index'),
      iteration: JsonPath.numberAt('$.iteration'),
      company_name: JsonPath.stringAt('$.company_name'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      search_provider: JsonPath.stringAt('$.search_provider'),
      max_queries: JsonPath.numberAt('$.max_queries'),
      follow_up_queries: JsonPath.listAt('$.follow_up_queries'),
      usage: JsonPath.objectAt('$.usage'),
    }, '$.research', Duration.seconds(130));

    const extraction = agentTask('Extract', agents.extraction, {
      company_name: JsonPath.stringAt('$.company_name'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      research_notes: JsonPath.stringAt('$.research.research_notes'),
      sources: JsonPath.listAt('$.research.sources'),
      previous: JsonPath.objectAt('$.record'),
      usage: JsonPath.objectAt('$.research.usage'),
    }, '$.record', Duration.seconds(70));

    const reflection = agentTask('Reflect', agents.reflection, {
      company_name: JsonPath.stringAt('$.company_name'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      extracted_data: JsonPath.objectAt('$.record.extracted_data'),
      field_sources: JsonPath.objectAt('$.record.field_sources'),
      confidence_score: JsonPath.numberAt('$.record.confidence_score'),
      previous_queries: JsonPath.listAt('$.research.research_queries'),
      max_follow_up_queries: JsonPath.numberAt('$.max_queries'),
    }, '$.reflection', Duration.seconds(40));

    const storeFields = {
      job_id: JsonPath.stringAt('$.job_id'),
      index: JsonPath.numberAt('$.index'),
      company_name: JsonPath.stringAt('$.company_name'),
      iterations: JsonPath.numberAt('$.iteration'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      record: JsonPath.objectAt('$.record'),
    };
    const storeCompleted = agentTask('StoreResult', agents.storage, {
      ...storeFields,
      outcome: 'completed',
      usage: JsonPath.objectAt('$.record.usage'),
      reflection: JsonPath.objectAt('$.reflection'),
    }, '$', Duration.seconds(40));
    const storeFailed = agentTask('RecordFailure', agents.storage, {
      ...storeFields,
      outcome: 'failed',
      usage: JsonPath.objectAt('$.usage'),
      error: JsonPath.objectAt('$.error'),
    }, '$', Duration.seconds(40));

    // The next round starts from the follow-up queries, with the record and the spend so far.
    const nextIteration = new Pass(this, 'NextIteration', {
      parameters: {
        'job_id.$': '$.job_id',
        'index.$': '$.index',
        'company_name.$': '$.company_name',
        'extraction_schema.$': '$.extraction_schema',
        'max_iterations.$': '$.max_iterations',
        'max_queries.$': '$.max_queries',
        'search_provider.$': '$.search_provider',
        'iteration.$': 'States.MathAdd($.iteration, 1)',
        'follow_up_queries.$': '$.reflection.follow_up_queries',
        'usage.$': '$.record.usage',
        'record.$': '$.record',
      },
    });

    const isDone = new Choice(this, 'RecordComplete?')
      .when(
        Condition.or(
          Condition.booleanEquals('$.reflection.is_complete', true),
          Condition.numberGreaterThanEqualsJsonPath('$.iteration', '$.max_iterations'),
        ),
        storeCompleted,
      )
      .otherwise(nextIteration);
    nextIteration.next(research);

    for (const task of [research, extraction, reflection]) {
      // A company that still fails after its retries is recorded with its reason; it never fails the batch.
      task.addCatch(storeFailed, { errors: [Errors.ALL], resultPath: '$.error' });
    }
    const perCompany = research.next(extraction).next(reflection).next(isDone);

    // ── The batch ────────────────────────────────────────────────────────────────────
    const recordJob = new DynamoUpdateItem(this, 'RecordJob', {
      table: jobsTable,
      key: { job_id: DynamoAttributeValue.fromString(JsonPath.stringAt('$.job_id')) },
      updateExpression: 'SET #status = :running, execution_arn = :arn, started_at = :now, updated_at = :now',
      // Only jobs the API recorded: an execution started by hand fails here instead of inventing a job.
      conditionExpression: 'attribute_exists(job_id)',
      expressionAttributeNames: { '#status': 'status' },
      expressionAttributeValues: {
        ':running': DynamoAttributeValue.fromString('RUNNING'),
        ':arn': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.Execution.Id')),
        ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.State.EnteredTime')),
      },
      resultPath: JsonPath.DISCARD,
    });

    const companies = new DistributedMap(this, 'ResearchCompanies', {
      itemReader: new S3JsonItemReader({ bucket: props.bucket, key: JsonPath.stringAt('$.manifest.key') }),
      itemSelector: {
        job_id: JsonPath.stringAt('$.job_id'),
        index: JsonPath.numberAt('$$.Map.Item.Value.index'),
        company_name: JsonPath.stringAt('$$.Map.Item.Value.company_name'),
        extraction_schema: JsonPath.objectAt('$.extraction_schema'),
        max_iterations: JsonPath.numberAt('$.max_iterations'),
        max_queries: JsonPath.numberAt('$.max_queries'),
        search_provider: JsonPath.stringAt('$.search_provider'),
        iteration: 1,
        follow_up_queries: [],
        usage: zeroUsage(),
        record: { extracted_data: {}, field_sources: {}, confidence_score: 0 },
      },
      maxConcurrency: props.maxConcurrency ?? 100,
      // STANDARD children: a company's loop can outlast EXPRESS's 5-minute cap (max_iterations × the agents'
      // timeouts, plus retry backoff), and STANDARD runs each step once and lets a Map Run redrive only failed
      // children. The price is ~20 state transitions a company, about $0.0005.
      mapExecutionType: StateMachineType.STANDARD,
      // Children catch their own failures and record them; a child fails only if storage itself fails, and the
      // assembly then records that company as failed. Beyond 10 % something systemic is wrong: stop the batch.
      toleratedFailurePercentage: 10,
      resultWriterV2: new ResultWriterV2({ bucket: props.bucket, prefix: 'map-results' }),
      resultPath: JsonPath.DISCARD,
    });
    companies.itemProcessor(perCompany);

    const assemble = new LambdaInvoke(this, 'AssembleResults', {
      lambdaFunction: agents.assemble,
      payload: TaskInput.fromObject({
        job_id: JsonPath.stringAt('$.job_id'),
        manifest_key: JsonPath.stringAt('$.manifest.key'),
        extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.assembled',
    });

    const markDone = new DynamoUpdateItem(this, 'MarkJobDone', {
      table: jobsTable,
      key: { job_id: DynamoAttributeValue.fromString(JsonPath.stringAt('$.job_id')) },
      updateExpression: 'SET #status = :done, results_jsonl_key = :jsonl, results_csv_key = :csv, finished_at = :now, updated_at = :now',
      expressionAttributeNames: { '#status': 'status' },
      expressionAttributeValues: {
        ':done': DynamoAttributeValue.fromString('COMPLETED'),
        ':jsonl': DynamoAttributeValue.fromString(JsonPath.stringAt('$.assembled.results_jsonl_key')),
        ':csv': DynamoAttributeValue.fromString(JsonPath.stringAt('$.assembled.results_csv_key')),
        ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.State.EnteredTime')),
      },
      resultPath: JsonPath.DISCARD,
    });

    const markFailed = new DynamoUpdateItem(this, 'MarkJobFailed', {
      table: jobsTable,
      key: { job_id: DynamoAttributeValue.fromString(JsonPath.stringAt('$.job_id')) },
      updateExpression: 'SET #status = :failed, #error = :error, updated_at = :now',
      expressionAttributeNames: { '#status': 'status', '#error': 'error' },
      expressionAttributeValues: {
        ':failed': DynamoAttributeValue.fromString('FAILED'),
        ':error': DynamoAttributeValue.fromString(JsonPath.format('{}: {}', JsonPath.stringAt('$.error.Error'), JsonPath.stringAt('$.error.Cause'))),
        ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.State.EnteredTime')),
      },
      resultPath: JsonPath.DISCARD,
    }).next(new Fail(this, 'BatchFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' }));

    companies.addCatch(markFailed, { errors: [Errors.ALL], resultPath: '$.error' });
    assemble.addCatch(markFailed, { errors: [Errors.ALL], resultPath: '$.error' });

    const definition = recordJob.next(companies).next(assemble).next(markDone);

    this.stateMachine = new StateMachine(this, 'Coordinator', {
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      timeout: Duration.hours(12),
      logs: {
        destination: new LogGroup(this, 'CoordinatorLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
    });
  }
}
