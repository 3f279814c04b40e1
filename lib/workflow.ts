/**
 * The coordinator: a STANDARD state machine that records the job, fans the companies out over a Distributed Map
 * (research → extraction → reflection, looping on follow-up queries), then assembles the results. Beside it, the
 * company machine runs the same per-company chain (lib/company-research.ts) for one company at a time.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  type CfnStateMachine,
  DefinitionBody,
  DistributedMap,
  Errors,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { DynamoAttributeValue, DynamoUpdateItem, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { COMPANY_MACHINE_TIMEOUT_SECONDS, firstIteration, jobKeyPatterns } from '../lambdas/core/job-layout';
import type { Agents } from './agents';
import { CompanyResearchSteps, passRunSettings } from './company-research';
import { acknowledgeWildcard, executionsArn, KEYS_NAMED_AT_RUN_TIME } from './grants';
import { LAMBDA_THROTTLED, LAMBDA_TIMED_OUT, LAMBDA_TRANSIENT_ERRORS } from './lambda-errors';

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

/** Where the Distributed Map's ResultWriter puts each Map Run's results. */
const MAP_RESULTS_PREFIX = 'map-results';

/**
 * The batch's ItemReader. The manifest's key is a JsonPath, so CDK grants GetObject on every object of the bucket;
 * this reader asks only for manifests: a job's, or a redrive's.
 */
class ManifestReader extends S3JsonItemReader {
  override providePolicyStatements(): PolicyStatement[] {
    const keys = [jobKeyPatterns.manifest, jobKeyPatterns.redriveManifest];
    return [new PolicyStatement({ actions: ['s3:GetObject'], resources: keys.map((k) => this.bucket.arnForObjects(k)) })];
  }
}

/** The batch's ResultWriter, allowed to write under its prefix only (CDK's own grant is the whole bucket). */
class MapResultsWriter extends ResultWriterV2 {
  override providePolicyStatements(): PolicyStatement[] {
    if (!this.bucket || !this.prefix) throw new Error('MapResultsWriter: give it a bucket and a prefix');
    // CDK's actions, the ones the Step Functions guide lists for a ResultWriter, on the prefix only.
    return [
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects(`${this.prefix}/*`)],
      }),
    ];
  }
}

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
      // `items`: the job's manifest, or a redrive's subset of it (executionInput in lambdas/core/job-layout.ts).
      itemReader: new ManifestReader({ bucket: props.bucket, key: JsonPath.stringAt('$.items.key') }),
      itemSelector: {
        job_id: JsonPath.stringAt('$.job_id'),
        index: JsonPath.numberAt('$$.Map.Item.Value.index'),
        company_name: JsonPath.stringAt('$$.Map.Item.Value.company_name'),
        // Null when the company was not pinned: every manifest item carries the key (manifestItemSchema).
        domain: JsonPath.stringAt('$$.Map.Item.Value.domain'),
        ...passRunSettings(),
        // The same start as a single-company run: companyRunInput (lambdas/core/job-layout.ts) builds this object.
        ...firstIteration(),
      },
      maxConcurrency: props.maxConcurrency ?? 100,
      // STANDARD children: a company's loop can outlast EXPRESS's 5-minute cap (max_iterations × the agents'
      // timeouts, plus retry backoff), and STANDARD runs each step exactly once. The price is 5 state transitions a
      // round (lambdas/core/pricing.ts CHAIN_ESTIMATES). (Redriving a job's failed companies is a new execution:
      // lambdas/shared/research-jobs.ts.)
      mapExecutionType: StateMachineType.STANDARD,
      // Children catch their own failures and record them; a child fails only if storage itself fails, and the
      // assembly then records that company as failed. Beyond 10 % something systemic is wrong: stop the batch.
      toleratedFailurePercentage: 10,
      resultWriterV2: new MapResultsWriter({ bucket: props.bucket, prefix: MAP_RESULTS_PREFIX }),
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
      // The function's own timeout, stated once: without a task timeout Step Functions has no bound of its own and
      // the local interpreter imposes 60 s, which cut off the assembly of large batches.
      taskTimeout: Timeout.duration(agents.assemble.timeout!),
    });
    // Assembly is idempotent (it rewrites the same files and counts an unrecorded company once): a crashed or
    // throttled invocation is simply run again rather than failing a job whose companies have all finished.
    assemble.addRetry({
      errors: [...LAMBDA_TRANSIENT_ERRORS, LAMBDA_THROTTLED],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      jitterStrategy: JitterType.FULL,
    });
    // A timeout gets one more go (S3 may have been slow); a second one is a batch too big for one invocation.
    assemble.addRetry({ errors: [Errors.TIMEOUT, LAMBDA_TIMED_OUT], interval: Duration.seconds(5), maxAttempts: 1 });

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
      // Every event (AwsSolutions-SF1): each state's timing shows which agent is slow, and an EXPRESS run has no history
      // but these logs. Without execution data: the companies and their schemas stay out of the logs.
      logs: {
        destination: new LogGroup(this, 'CoordinatorLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        level: LogLevel.ALL,
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
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
    });

    const roles: [StateMachine, StateMachineRole][] = [[this.stateMachine, 'coordinator'], [this.companyMachine, 'company']];
    for (const [machine, role] of roles) (machine.node.defaultChild as CfnStateMachine).addMetadata(STATE_MACHINE_ROLE_METADATA_KEY, role);

    // The wildcards CDK's own grants give the machines, each for its reason.
    for (const machine of [this.stateMachine, this.companyMachine]) {
      Validations.of(machine).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Logging and tracing: the CloudWatch Logs log-delivery actions and X-Ray support no resource-level permissions',
      });
      for (const fn of [agents.research, agents.extraction, agents.reflection, agents.storage, ...(machine === this.stateMachine ? [agents.assemble] : [])]) {
        acknowledgeWildcard(machine, `${fn.functionArn}:*`, "LambdaInvoke also grants the function's versions and aliases (<arn>:*); it is this one function");
      }
    }
    // The Distributed Map describes, stops and redrives its child executions, whose names Step Functions makes up.
    const children = "The Distributed Map's child executions are named by Step Functions at run time; the resource is this machine's executions only";
    acknowledgeWildcard(this.stateMachine, executionsArn(this.stateMachine), children);
    acknowledgeWildcard(this.stateMachine, executionsArn(this.stateMachine, '/*:*'), children);
    acknowledgeWildcard(this.stateMachine, props.bucket.arnForObjects(jobKeyPatterns.manifest), KEYS_NAMED_AT_RUN_TIME);
    acknowledgeWildcard(this.stateMachine, props.bucket.arnForObjects(jobKeyPatterns.redriveManifest), KEYS_NAMED_AT_RUN_TIME);
    acknowledgeWildcard(
      this.stateMachine,
      props.bucket.arnForObjects(`${MAP_RESULTS_PREFIX}/*`),
      'Each Map Run writes its manifest and result files under a folder named after the run, inside this prefix',
    );
  }
}
