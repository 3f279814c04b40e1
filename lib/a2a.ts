/**
 * Every agent is an A2A agent: the research, extraction and reflection functions (the state machine's own tasks)
 * get function URLs, and a coordinator agent fronts the two state machines (one company on the EXPRESS machine, a
 * batch on the STANDARD one) at a streaming function URL. Cards are public; JSON-RPC calls carry a bearer token
 * that each function verifies against the project's one identity. An EventBridge rule tells the events function
 * when a batch execution ends, so the A2A task that started it ends too and its webhooks are called.
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FunctionUrlAuthType, InvokeMode, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { jobKeyPatterns } from '../lambdas/core/job-layout';
import { AgentFunction } from './agent-function';
import { RESERVES_UNITS, researchUnitsEnvironment } from './api';
import type { Agents } from './agents';
import { grantObjects, grantStopExecutions, grantTable } from './grants';
import type { Identity } from './identity';
import { TASKS_BY_OWNER_INDEX } from './storage';
import { grantWebhookSecrets } from './webhook-secrets';
import type { Workflow } from './workflow';

export interface A2aProps {
  agents: Agents;
  workflow: Workflow;
  identity: Identity;
  jobsTable: ITable;
  tasksTable: ITable;
  bucket: IBucket;
  /** The per-client counters: research an agent starts is charged to its caller's daily units, as through the API. */
  quotasTable: ITable;
}

export class A2a extends Construct {
  readonly coordinator: AgentFunction;
  readonly taskEvents: AgentFunction;
  readonly urls: Record<'research' | 'extraction' | 'reflection' | 'coordinator', FunctionUrl>;

  constructor(scope: Construct, id: string, props: A2aProps) {
    super(scope, id);
    const { agents, workflow, identity, jobsTable, tasksTable, bucket } = props;
    if (!identity.tokenUrl) throw new Error('A2A agents need a token URL to publish in their cards: give the external issuer a tokenUrl');
    // None of these is a secret: the issuer, where its keys are, who the tokens are for, where to get one.
    // Who runs the deployment, named in every card when both are given (-c agentProviderName=… -c agentProviderUrl=…).
    const providerName = this.node.tryGetContext('agentProviderName');
    const providerUrl = this.node.tryGetContext('agentProviderUrl');
    if (!providerName !== !providerUrl) throw new Error('agentProviderName and agentProviderUrl go together: give both or neither');
    const a2aEnvironment = {
      ...identity.environment(),
      AUTH_TOKEN_URL: identity.tokenUrl,
      TASKS_TABLE_NAME: tasksTable.tableName,
      ...(providerName ? { AGENT_PROVIDER_NAME: String(providerName), AGENT_PROVIDER_URL: String(providerUrl) } : {}),
    };

    // Every A2A method of the SDK's request handler, on lambdas/store/a2a-task-store.ts: tasks and push configs are
    // got, put, queried per task and deleted (push configs); ListTasks queries by_owner, then batch-gets the page.
    const grantTaskStore = (fn: AgentFunction) =>
      grantTable(fn, tasksTable, ['GetItem', 'PutItem', 'DeleteItem', 'Query', 'BatchGetItem'], { queryIndexes: [TASKS_BY_OWNER_INDEX] });
    for (const fn of [agents.research, agents.extraction, agents.reflection]) {
      for (const [key, value] of Object.entries(a2aEnvironment)) fn.addEnvironment(key, value);
      grantTaskStore(fn);
    }
    // A research round called directly spends searches: charged like any research (extraction and reflection
    // spend tokens only, which the units do not count).
    const units = researchUnitsEnvironment(this, props.quotasTable);
    for (const [key, value] of Object.entries(units)) agents.research.addEnvironment(key, value);
    grantTable(agents.research, props.quotasTable, RESERVES_UNITS);

    // Lambda's maximum: one company's loop answers in minutes; the function must outlast the EXPRESS machine (5 min).
    this.coordinator = new AgentFunction(this, 'Coordinator', {
      handler: 'coordinator-agent',
      description: 'Dossier coordinator agent (A2A): one company in real time, or a batch job',
      timeout: Duration.minutes(15),
      environment: {
        ...a2aEnvironment,
        BUCKET_NAME: bucket.bucketName,
        JOBS_TABLE_NAME: jobsTable.tableName,
        STATE_MACHINE_ARN: workflow.stateMachine.stateMachineArn,
        COMPANY_STATE_MACHINE_ARN: workflow.companyMachine.stateMachineArn,
        ...units,
      },
    });
    grantTaskStore(this.coordinator);
    // research_companies and research_company (lambdas/shared/research-jobs.ts): the manifest and the batch's settings,
    // then the job (created, marked running, counted, failed; read back with its progress), and for one company its
    // stored result. The results files are the storage and assembly steps' to write.
    grantObjects(this.coordinator, bucket, ['s3:PutObject'], [jobKeyPatterns.manifest, jobKeyPatterns.settings]);
    grantObjects(this.coordinator, bucket, ['s3:GetObject'], [jobKeyPatterns.result]);
    grantTable(this.coordinator, jobsTable, ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem']);
    grantTable(this.coordinator, props.quotasTable, RESERVES_UNITS);
    workflow.stateMachine.grantStartExecution(this.coordinator);
    grantStopExecutions(this.coordinator, workflow.stateMachine); // CancelTask of a batch task
    workflow.companyMachine.grantStartSyncExecution(this.coordinator);

    this.taskEvents = new AgentFunction(this, 'TaskEvents', {
      handler: 'a2a-task-events',
      description: "Dossier: when a batch's execution ends, calls the job's webhook and ends its A2A task",
      timeout: Duration.seconds(60),
      memorySize: 256,
      environment: { BUCKET_NAME: bucket.bucketName, JOBS_TABLE_NAME: jobsTable.tableName, TASKS_TABLE_NAME: tasksTable.tableName },
    });
    // The job is closed if still open, read, and its webhook delivery recorded (UpdateItem); the A2A task that follows
    // it is found by its id (Query), saved (PutItem), and its push configs read (Query).
    grantTable(this.taskEvents, jobsTable, ['GetItem', 'BatchGetItem', 'UpdateItem']);
    grantTable(this.taskEvents, tasksTable, ['Query', 'PutItem']);
    // It also calls the job's callback_url, signed with the submitting client's secret.
    grantWebhookSecrets(this.taskEvents, this);
    new Rule(this, 'BatchExecutionEnded', {
      description: 'A batch execution of the coordinator state machine ended',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [workflow.stateMachine.stateMachineArn], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [new LambdaFunction(this.taskEvents, { retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    });

    // Auth type NONE: cards must be public, and JSON-RPC calls are authorized by their bearer token in the function.
    const url = (fn: AgentFunction, invokeMode: InvokeMode) => fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode });
    this.urls = {
      research: url(agents.research, InvokeMode.BUFFERED),
      extraction: url(agents.extraction, InvokeMode.BUFFERED),
      reflection: url(agents.reflection, InvokeMode.BUFFERED),
      coordinator: url(this.coordinator, InvokeMode.RESPONSE_STREAM),
    };
    for (const [agent, functionUrl] of Object.entries(this.urls)) {
      new CfnOutput(scope, `${agent[0]!.toUpperCase()}${agent.slice(1)}AgentUrl`, { value: functionUrl.url, description: `A2A ${agent} agent; its card is at .well-known/agent-card.json` });
    }
  }
}
