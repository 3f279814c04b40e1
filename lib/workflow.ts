/**
 * The coordinator: a STANDARD state machine that records the job, fans the companies out over a Distributed Map
 * (research → extraction → reflection, looping on follow-up queries), then assembles the results. Beside it, the
 * company machine runs the same per-company chain (lib/company-research.ts) for one company at a time.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  type CfnStateMachine,
  DefinitionBody,
  DistributedMap,
  Errors,
  Fail,
  JsonPath,
  LogLevel,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { DynamoAttributeValue, DynamoUpdateItem, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { COMPANY_MACHINE_TIMEOUT_SECONDS, firstIteration } from '../lambdas/core/job-layout';
import type { Agents } from './agents';
import { CompanyResearchSteps, passRunSettings } from './company-research';

export interface WorkflowProps {
  agents: Agents;
  jobsTable: ITable;
  bucket: IBucket;
  /** How many companies run at once. Each runs its agents one after another. */
  maxConcurrency?: number;
}

export { PROVIDER_THROTTLED, PROVIDER_UNAVAILABLE } from './company-research';

/** The CloudFormation metadata key that names each state machine's role; the local runtime picks machines by it. */
export const STATE_MACHINE_ROLE_METADATA_KEY = 'dossier:state-machine';
export type StateMachineRole = 'coordinator' | 'company';

export class Workflow extends Construct {
  /** The coordinator: one batch, STANDARD. */
  readonly stateMachine: StateMachine;
  /** One company on its own, EXPRESS, for StartSyncExecution: the input is companyRunInput's, the output storage's. */
  readonly companyMachine: StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const { agents, jobsTable } = props;

    // One company's chain, twice: each state machine needs its own states (a state belongs to one graph).
    const perCompany = new CompanyResearchSteps(this, 'PerCompany', { agents });
    const single = new CompanyResearchSteps(this, 'SingleCompany', { agents });

    // ── The batch ────────────────────────────────────────────────────────────────────
    const recordJob = new DynamoUpdateItem(this, 'RecordJob', {
      table: jobsTable,
      key: { job_id: DynamoAttributeValue.fromString(JsonPath.stringAt('$.job_id')) },
      updateExpression: 'SET #status = :running, execution_arn = :arn, started_at = :now, updated_at = :now',
      // Only jobs the API recorded and nobody canceled yet: an execution started by hand, or one that starts after its
      // job was canceled (POST /jobs/{job_id}/cancel), fails here instead of inventing or reopening a job.
      conditionExpression: '#status = :submitted',
      expressionAttributeNames: { '#status': 'status' },
      expressionAttributeValues: {
        ':submitted': DynamoAttributeValue.fromString('SUBMITTED'),
        ':running': DynamoAttributeValue.fromString('RUNNING'),
        ':arn': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.Execution.Id')),
        ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.State.EnteredTime')),
      },
      resultPath: JsonPath.DISCARD,
    });

    const companies = new DistributedMap(this, 'ResearchCompanies', {
      itemReader: new S3JsonItemReader({ bucket: props.bucket, key: JsonPath.stringAt('$.items.key') }),
      itemSelector: {
        job_id: JsonPath.stringAt('$.job_id'),
        index: JsonPath.numberAt('$$.Map.Item.Value.index'),
        company_name: JsonPath.stringAt('$$.Map.Item.Value.company_name'),
        ...passRunSettings(),
        // The same start as a single-company run: companyRunInput (lambdas/core/job-layout.ts) builds this object.
        ...firstIteration(),
      },
      maxConcurrency: props.maxConcurrency ?? 100,
      // STANDARD children: a company's loop can outlast EXPRESS's 5-minute cap (max_iterations × the agents'
      // timeouts, plus retry backoff), and STANDARD runs each step once and lets a Map Run redrive only failed
      // children. The price is 5 state transitions a round (lambdas/core/pricing.ts CHAIN_ESTIMATES).
      mapExecutionType: StateMachineType.STANDARD,
      // Children catch their own failures and record them; a child fails only if storage itself fails, and the
      // assembly then records that company as failed. Beyond 10 % something systemic is wrong: stop the batch.
      toleratedFailurePercentage: 10,
      resultWriterV2: new ResultWriterV2({ bucket: props.bucket, prefix: 'map-results' }),
      resultPath: JsonPath.DISCARD,
    });
    companies.itemProcessor(perCompany.chain);

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
      // A job canceled while its last steps ran stays CANCELLED (cancelJob records it before stopping the execution).
      conditionExpression: '#status = :running',
      expressionAttributeNames: { '#status': 'status' },
      expressionAttributeValues: {
        ':running': DynamoAttributeValue.fromString('RUNNING'),
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
      conditionExpression: '#status = :running',
      expressionAttributeNames: { '#status': 'status', '#error': 'error' },
      expressionAttributeValues: {
        ':running': DynamoAttributeValue.fromString('RUNNING'),
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

    // A caller waits for this one (StartSyncExecution), so EXPRESS: billed by duration, no per-transition price.
    // Five minutes is EXPRESS's ceiling; a company that needs longer times out, unstored and uncounted, and the
    // caller has to record it, or, when it stopped waiting, GET /jobs reports it (the batch keeps STANDARD children
    // for that reason). Its storage step closes the job of one company: nothing runs after the machine.
    this.companyMachine = new StateMachine(this, 'CompanyMachine', {
      definitionBody: DefinitionBody.fromChainable(single.chain),
      stateMachineType: StateMachineType.EXPRESS,
      tracingEnabled: true,
      timeout: Duration.seconds(COMPANY_MACHINE_TIMEOUT_SECONDS),
      logs: {
        destination: new LogGroup(this, 'CompanyMachineLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
    });

    const roles: [StateMachine, StateMachineRole][] = [[this.stateMachine, 'coordinator'], [this.companyMachine, 'company']];
    for (const [machine, role] of roles) (machine.node.defaultChild as CfnStateMachine).addMetadata(STATE_MACHINE_ROLE_METADATA_KEY, role);
  }
}
