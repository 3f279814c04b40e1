/** The REST API: submit a batch, research one company, read a job. Bearer tokens checked, bodies validated and calls throttled at the edge. */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Model,
  RequestValidator,
  ResponseType,
  RestApi,
  TokenAuthorizer,
  type JsonSchema,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { z } from 'zod';
import { batchRequestSchema, singleResearchRequestSchema } from '../lambdas/core/contracts';
import { jobKeyPatterns } from '../lambdas/core/job-layout';
import { DEFAULT_DAILY_RESEARCH_UNITS, DEFAULT_RATE_LIMIT_PER_MINUTE } from '../lambdas/core/quotas';
import { AUTH_REALM } from '../lambdas/shared/identity';
import { AgentFunction } from './agent-function';
import { grantObjects, grantStopExecutions, grantTable, type TableAction } from './grants';
import type { Identity } from './identity';
import { limitSetting } from './settings';
import { JOBS_BY_CLIENT_INDEX } from './storage';
import { grantWebhookSecrets } from './webhook-secrets';

export interface ApiProps {
  jobsTable: ITable;
  bucket: IBucket;
  stateMachine: IStateMachine;
  /** The EXPRESS company machine: POST /research/single runs one company on it (StartSyncExecution). */
  companyMachine: IStateMachine;
  /** The project's one identity: the API's authorizer verifies its tokens. */
  identity: Identity;
  /** Requests per second across the stage, and the burst above it. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** Per-client counters: requests per minute on every route, research units per day on the research routes. */
  quotasTable: ITable;
  /**
   * Per-client limits; by default the context's `-c rateLimitPerMinute=…` and `-c dailyResearchUnits=…`, else
   * lambdas/core/quotas.ts's defaults (100 a minute, 200,000 units a day).
   */
  quotas?: { rateLimitPerMinute?: number; dailyResearchUnits?: number };
}

/** What reserving research units takes on the quotas table: the reservation, and the read when it is refused. */
export const RESERVES_UNITS: TableAction[] = ['UpdateItem', 'GetItem'];

/**
 * The environment that lets a function charge research to its caller's daily units (lambdas/shared/quotas.ts):
 * every door that starts research (the API's research routes, the A2A agents that research) gets the same one.
 */
export function researchUnitsEnvironment(scope: Construct, quotasTable: ITable, dailyResearchUnits?: number): Record<string, string> {
  return {
    QUOTAS_TABLE_NAME: quotasTable.tableName,
    DAILY_RESEARCH_UNITS: String(limitSetting(scope, 'dailyResearchUnits', dailyResearchUnits, DEFAULT_DAILY_RESEARCH_UNITS)),
  };
}

/** API Gateway models speak JSON Schema draft 4; the contract's zod schema is the one source. */
export function requestModelSchema(contract: z.ZodType): JsonSchema {
  const { $schema: _dropped, ...schema } = z.toJSONSchema(contract, { target: 'draft-4', io: 'input' }) as Record<string, unknown>;
  return { schema: JsonSchemaVersion.DRAFT4, ...schema } as JsonSchema;
}

export class Api extends Construct {
  readonly restApi: RestApi;
  readonly submit: AgentFunction;
  readonly researchSingle: AgentFunction;
  readonly jobStatus: AgentFunction;
  readonly listJobs: AgentFunction;
  readonly jobResults: AgentFunction;
  readonly cancelJob: AgentFunction;
  readonly redriveJob: AgentFunction;
  readonly authorizer: AgentFunction;
  readonly webhookSecret: AgentFunction;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    // Every route counts its caller's requests (lambdas/shared/http.ts); the research routes also their units.
    const rate = {
      QUOTAS_TABLE_NAME: props.quotasTable.tableName,
      RATE_LIMIT_PER_MINUTE: String(limitSetting(this, 'rateLimitPerMinute', props.quotas?.rateLimitPerMinute, DEFAULT_RATE_LIMIT_PER_MINUTE)),
    };
    const { DAILY_RESEARCH_UNITS } = researchUnitsEnvironment(this, props.quotasTable, props.quotas?.dailyResearchUnits);
    const units = { DAILY_RESEARCH_UNITS };
    const data = { BUCKET_NAME: props.bucket.bucketName, JOBS_TABLE_NAME: props.jobsTable.tableName, ...rate };

    this.submit = new AgentFunction(this, 'SubmitBatch', {
      handler: 'submit-batch',
      description: 'Dossier API: POST /research/batch',
      timeout: Duration.seconds(29),
      environment: { ...data, ...units, STATE_MACHINE_ARN: props.stateMachine.stateMachineArn },
    });
    // API Gateway gives a Lambda integration 29 s: the handler answers 202 before then and the run goes on.
    this.researchSingle = new AgentFunction(this, 'ResearchSingle', {
      handler: 'research-single',
      description: 'Dossier API: POST /research/single',
      timeout: Duration.seconds(29),
      environment: { ...data, ...units, COMPANY_STATE_MACHINE_ARN: props.companyMachine.stateMachineArn },
    });
    this.jobStatus = new AgentFunction(this, 'JobStatus', {
      handler: 'job-status',
      description: 'Dossier API: GET /jobs/{job_id}',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: data,
    });
    // startBatchJob (lambdas/shared/research-jobs.ts): the manifest, then the job: read (a replay), created, failed.
    // The job's progress is read beside it (BatchGetItem of its progress items, lambdas/store/job-store.ts).
    grantObjects(this.submit, props.bucket, ['s3:PutObject'], [jobKeyPatterns.manifest, jobKeyPatterns.settings]);
    grantTable(this.submit, props.jobsTable, ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem']);
    props.stateMachine.grantStartExecution(this.submit);
    // researchOneCompany: the manifest in, the stored result back out. No listing: S3 then answers a missing result
    // with AccessDenied instead of NoSuchKey, and a run that SUCCEEDED has always stored its result.
    grantObjects(this.researchSingle, props.bucket, ['s3:PutObject'], [jobKeyPatterns.manifest]);
    grantObjects(this.researchSingle, props.bucket, ['s3:GetObject'], [jobKeyPatterns.result]);
    grantTable(this.researchSingle, props.jobsTable, ['GetItem', 'PutItem', 'UpdateItem']);
    props.companyMachine.grantStartSyncExecution(this.researchSingle);
    grantTable(this.jobStatus, props.jobsTable, ['GetItem', 'BatchGetItem']);

    // Job control: the caller's jobs, links to their results, canceling one.
    this.listJobs = new AgentFunction(this, 'ListJobs', {
      handler: 'list-jobs',
      description: 'Dossier API: GET /jobs',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: data,
    });
    this.jobResults = new AgentFunction(this, 'JobResults', {
      handler: 'job-results',
      description: 'Dossier API: GET /jobs/{job_id}/results',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: data,
    });
    this.cancelJob = new AgentFunction(this, 'CancelJob', {
      handler: 'cancel-job',
      description: 'Dossier API: POST /jobs/{job_id}/cancel',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: { ...data, STATE_MACHINE_ARN: props.stateMachine.stateMachineArn },
    });
    // The listing queries the caller's keys in by_client, then batch-gets the page's jobs from the table.
    grantTable(this.listJobs, props.jobsTable, ['BatchGetItem'], { queryIndexes: [JOBS_BY_CLIENT_INDEX] });
    grantTable(this.jobResults, props.jobsTable, ['GetItem', 'BatchGetItem']);
    // A presigned URL can do what its signer may: read the two results files, nothing else (no listing, no writes).
    grantObjects(this.jobResults, props.bucket, ['s3:GetObject'], [jobKeyPatterns.jsonl, jobKeyPatterns.csv]);
    grantTable(this.cancelJob, props.jobsTable, ['GetItem', 'BatchGetItem', 'UpdateItem']);
    grantStopExecutions(this.cancelJob, props.stateMachine);

    this.redriveJob = new AgentFunction(this, 'RedriveJob', {
      handler: 'redrive-job',
      description: 'Dossier API: POST /jobs/{job_id}/redrive',
      timeout: Duration.seconds(29),
      environment: { ...data, ...units, STATE_MACHINE_ARN: props.stateMachine.stateMachineArn },
    });
    // redriveJob: the job's manifest and settings in, the redrive's subset of companies out; the job and its progress
    // read, the job reopened (or restored); the redrive's execution started.
    grantObjects(this.redriveJob, props.bucket, ['s3:GetObject'], [jobKeyPatterns.manifest, jobKeyPatterns.settings]);
    grantObjects(this.redriveJob, props.bucket, ['s3:PutObject'], [jobKeyPatterns.redriveManifest]);
    grantTable(this.redriveJob, props.jobsTable, ['GetItem', 'BatchGetItem', 'UpdateItem']);
    props.stateMachine.grantStartExecution(this.redriveJob);

    this.webhookSecret = new AgentFunction(this, 'WebhookSecret', {
      handler: 'webhook-secret',
      description: "Dossier API: GET /webhooks/secret, the caller's webhook signing secret",
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: rate,
    });
    grantWebhookSecrets(this.webhookSecret, this);
    // Every route counts its caller's request (one UpdateItem, lambdas/store/quota-store.ts); the research routes also
    // reserve units, and read what is used when a reservation is refused.
    for (const route of [this.submit, this.researchSingle, this.jobStatus, this.listJobs, this.jobResults, this.cancelJob, this.redriveJob, this.webhookSecret]) {
      const reservesUnits = route === this.submit || route === this.researchSingle || route === this.redriveJob;
      grantTable(route, props.quotasTable, reservesUnits ? RESERVES_UNITS : ['UpdateItem']);
    }

    this.authorizer = new AgentFunction(this, 'Authorizer', {
      handler: 'api-authorizer',
      description: 'Dossier API: verifies bearer tokens and opens the routes their scopes allow',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: props.identity.environment(),
    });
    // Policies cover every route a token's scopes open (lambdas/core/api-access.ts), so caching them per token is safe.
    const tokenAuthorizer = new TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: this.authorizer,
      identitySource: 'method.request.header.Authorization',
      resultsCacheTtl: Duration.minutes(5),
    });

    const throttle = props.throttle ?? { rateLimit: 10, burstLimit: 20 };
    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: 'dossier',
      description: 'Dossier: company research at batch scale',
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        ),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
      // The project's one identity: the same tokens the A2A agents take (Cognito or any OIDC issuer).
      defaultMethodOptions: { authorizationType: AuthorizationType.CUSTOM, authorizer: tokenAuthorizer },
      cloudWatchRole: true,
    });
    Validations.of(this.restApi).acknowledge(
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Every method has the TOKEN authorizer instead: it verifies JWTs of Cognito or of any OIDC issuer named at deploy time (a Cognito authorizer takes Cognito tokens only) and opens only the routes their scopes allow',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF web ACL by default (a monthly charge per ACL and rule): every route needs a bearer token, the stage is throttled and each client has a request rate and a daily budget; an ACL can be associated with the stage after deploying',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-wide logging role: AWS's policy for it lets API Gateway write the log groups it creates for every API and stage",
      },
    );

    // A refused token gets a Bearer challenge (RFC 6750); a token lacking the scope hears which reason.
    this.restApi.addGatewayResponse('Unauthorized', {
      type: ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': `'Bearer realm="${AUTH_REALM}"'` },
      templates: { 'application/json': '{"error":"unauthorized","message":"send a valid access token: Authorization: Bearer <token>"}' },
    });
    this.restApi.addGatewayResponse('AccessDenied', {
      type: ResponseType.ACCESS_DENIED,
      statusCode: '403',
      responseHeaders: { 'WWW-Authenticate': `'Bearer realm="${AUTH_REALM}", error="insufficient_scope"'` },
      templates: { 'application/json': '{"error":"forbidden","message":"the token\'s scopes do not open this route"}' },
    });

    // The gateway's own validator answers "Invalid request body" by default; say what was wrong, in the handlers' shape.
    this.restApi.addGatewayResponse('BadRequestBody', {
      type: ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: { 'application/json': '{"error":"invalid_request","message":"$util.escapeJavaScript($context.error.validationErrorString)"}' },
    });

    // Bodies against their models, and the parameters each method declares required (the job_id in the path).
    const validator = new RequestValidator(this, 'RequestValidator', {
      restApi: this.restApi,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const batchModel = new Model(this, 'BatchRequestModel', {
      restApi: this.restApi,
      contentType: 'application/json',
      modelName: 'BatchRequest',
      schema: requestModelSchema(batchRequestSchema),
    });
    const singleModel = new Model(this, 'SingleResearchRequestModel', {
      restApi: this.restApi,
      contentType: 'application/json',
      modelName: 'SingleResearchRequest',
      schema: requestModelSchema(singleResearchRequestSchema),
    });

    const research = this.restApi.root.addResource('research');
    research.addResource('batch').addMethod('POST', new LambdaIntegration(this.submit), {
      requestValidator: validator,
      requestModels: { 'application/json': batchModel },
    });
    research.addResource('single').addMethod('POST', new LambdaIntegration(this.researchSingle), {
      requestValidator: validator,
      requestModels: { 'application/json': singleModel },
    });
    const jobs = this.restApi.root.addResource('jobs');
    jobs.addMethod('GET', new LambdaIntegration(this.listJobs), {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.next_token': false },
    });
    const job = jobs.addResource('{job_id}');
    const jobPath = { requestValidator: validator, requestParameters: { 'method.request.path.job_id': true } };
    job.addMethod('GET', new LambdaIntegration(this.jobStatus), jobPath);
    job.addResource('results').addMethod('GET', new LambdaIntegration(this.jobResults), jobPath);
    job.addResource('cancel').addMethod('POST', new LambdaIntegration(this.cancelJob), jobPath);
    job.addResource('redrive').addMethod('POST', new LambdaIntegration(this.redriveJob), jobPath);
    this.restApi.root.addResource('webhooks').addResource('secret').addMethod('GET', new LambdaIntegration(this.webhookSecret));
  }
}
