import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { batchRequestSchema } from '../../lambdas/core/contracts';
import { companyRunInput, executionInput } from '../../lambdas/core/job-layout';
import { policyAllows, policyFor } from '../../lambdas/core/api-access';
import { ALL_SCOPES } from '../../lambdas/core/scopes';
import { JOBS_BY_CLIENT_INDEX } from '../../lambdas/store/job-store';
import { STORAGE_TRANSIENT_ATTEMPTS } from '../../lib/company-research';
import { DossierStack } from '../../lib/dossier-stack';
import { LAMBDA_CRASH_ERRORS, LAMBDA_SERVICE_ERRORS } from '../../lib/lambda-errors';
// The local runtime resolves the definition the way CloudFormation would; the assertions reuse it.
import {
  companyMachineDefinition,
  coordinatorDefinition,
  functionArn,
  localName,
  resolveIntrinsics,
  type CfnTemplate,
  type LocalStateMachine,
} from '../../local/template';

// asl-validator ships no type declarations; load it through require and describe the one call we make.
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

type CfnResource = { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> };
type AslState = Record<string, any>;

let template: Template;
let resources: Record<string, CfnResource>;
let definition: { StartAt: string; States: Record<string, AslState> };
let coordinator: LocalStateMachine;
let companyMachine: LocalStateMachine;

const HANDLERS = ['research', 'extraction', 'reflection', 'store-result', 'assemble-results', 'submit-batch', 'job-status'];

function logicalIdOf(type: string, props: object = {}): string {
  const found = Object.keys(template.findResources(type, props));
  expect(found, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0]!;
}

const jobsTableId = () =>
  logicalIdOf('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: 'job_id', KeyType: 'HASH' }] } });

/** The data bucket: the one whose server access logs go to the other. */
const dataBucketId = () => logicalIdOf('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'data-bucket/' }) } });

const functionId = (handler: string) =>
  logicalIdOf('AWS::Lambda::Function', { Metadata: { 'dossier:entry': `lambdas/handlers/${handler}.ts` } });

/** The full path of an API Gateway method, from its resource up to the root. */
function methodPath(method: CfnResource): string {
  const parts: string[] = [];
  let parent: unknown = method.Properties.ResourceId;
  while (parent && typeof parent === 'object' && 'Ref' in parent) {
    const resource = resources[(parent as { Ref: string }).Ref]!;
    parts.unshift(resource.Properties.PathPart);
    parent = resource.Properties.ParentId;
  }
  return `/${parts.join('/')}`;
}

function findMethod(httpMethod: string, path: string): CfnResource {
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as CfnResource[];
  const method = methods.find((m) => m.Properties.HttpMethod === httpMethod && methodPath(m) === path);
  expect(method, `${httpMethod} ${path}`).toBeDefined();
  return method!;
}

beforeAll(() => {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': true },
  });
  template = Template.fromStack(new DossierStack(app, 'DossierTest'));
  resources = template.toJSON().Resources;
  coordinator = coordinatorDefinition(template.toJSON() as CfnTemplate);
  companyMachine = companyMachineDefinition(template.toJSON() as CfnTemplate);
  definition = coordinator.definition as typeof definition;
});

describe('storage', () => {
  it('keeps jobs in an on-demand table keyed by job_id, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'job_id', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('caches searches in a table whose items expire', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'cache_key', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
    const research = template.findResources('AWS::Lambda::Function', { Metadata: { 'dossier:entry': 'lambdas/handlers/research.ts' } });
    const environment = Object.values(research)[0]!.Properties.Environment.Variables;
    expect(environment.SEARCH_CACHE_TABLE_NAME).toEqual({ Ref: Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: 'cache_key', KeyType: 'HASH' }] } }))[0] });
  });

  it('encrypts both buckets (data, access logs) and blocks every kind of public access', () => {
    const buckets = Object.entries(template.findResources('AWS::S3::Bucket')) as [string, CfnResource][];
    expect(buckets).toHaveLength(2);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties, id).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [expect.objectContaining({ ServerSideEncryptionByDefault: expect.anything() })] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
    }
  });

  it('refuses plain-HTTP access to both buckets', () => {
    for (const bucketId of Object.keys(template.findResources('AWS::S3::Bucket'))) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it("logs the data bucket's accesses to the access-logs bucket, which only S3's log delivery may write, for that bucket", () => {
    const data = resources[dataBucketId()]!;
    const logsId = (data.Properties.LoggingConfiguration.DestinationBucketName as { Ref: string }).Ref;
    expect(logsId).not.toBe(dataBucketId());
    expect(resources[logsId]!.Properties.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })]);
    // ACLs stay disabled on both: delivery is allowed by the bucket policy, from the data bucket of this account only.
    expect(resources[logsId]!.Properties.AccessControl).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [dataBucketId(), 'Arn'] } } }),
          }),
        ]),
      },
    });
  });

  it('expires raw search results but not the results themselves', () => {
    const bucket = resources[dataBucketId()]!;
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined && r.Status === 'Enabled');
    expect(expiring.map((r) => r.Prefix)).toEqual(['search-results/']);
  });
});

describe('functions', () => {
  it('deploys one function per handler', () => {
    for (const handler of HANDLERS) expect(resources[functionId(handler)]).toBeDefined();
  });

  it('runs every function on arm64 Node.js 24 with active tracing, and each that keeps data with the bucket name', () => {
    const bucketId = dataBucketId();
    const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as [string, CfnResource][];
    expect(functions.length).toBeGreaterThanOrEqual(HANDLERS.length);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      // The API's authorizer only checks tokens, and the webhook-secret route only reads Secrets Manager: no data.
      const keepsNoData = ['lambdas/handlers/api-authorizer.ts', 'lambdas/handlers/webhook-secret.ts'].includes(fn.Metadata?.['dossier:entry'] as string);
      if (keepsNoData) expect(fn.Properties.Environment?.Variables?.BUCKET_NAME, id).toBeUndefined();
      else expect(fn.Properties.Environment?.Variables?.BUCKET_NAME, id).toEqual({ Ref: bucketId });
    }
  });

  it('never puts an API key in a function environment, only secret ARNs', () => {
    const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as [string, CfnResource][];
    for (const [id, fn] of functions) {
      const names = Object.keys(fn.Properties.Environment?.Variables ?? {});
      expect(names.filter((n) => n.endsWith('_API_KEY')), id).toEqual([]);
    }
    const tavilySecret = logicalIdOf('AWS::SecretsManager::Secret', { Properties: { Description: Match.stringLikeRegexp('Tavily') } });
    const anthropicSecret = logicalIdOf('AWS::SecretsManager::Secret', { Properties: { Description: Match.stringLikeRegexp('Anthropic') } });
    const geminiSecret = logicalIdOf('AWS::SecretsManager::Secret', { Properties: { Description: Match.stringLikeRegexp('Gemini') } });
    expect(resources[functionId('research')]!.Properties.Environment.Variables).toMatchObject({
      TAVILY_SECRET_ARN: { Ref: tavilySecret },
      ANTHROPIC_SECRET_ARN: { Ref: anthropicSecret },
      GEMINI_SECRET_ARN: { Ref: geminiSecret },
    });
    expect(resources[functionId('extraction')]!.Properties.Environment.Variables).toMatchObject({
      ANTHROPIC_SECRET_ARN: { Ref: anthropicSecret },
    });
  });

  it.each([
    ['research', 120],
    ['extraction', 60],
    ['reflection', 30],
  ])('gives the %s agent a %i s timeout', (handler, seconds) => {
    expect(resources[functionId(handler)]!.Properties.Timeout).toBe(seconds);
  });
});

describe('state machine', () => {
  const states = () => definition.States;
  const processor = () => states().ResearchCompanies!.ItemProcessor as { StartAt: string; States: Record<string, AslState> };

  it('is a STANDARD state machine', () => {
    expect(resources[coordinator.logicalId]!.Properties.StateMachineType).toBe('STANDARD');
  });

  it('is valid Amazon States Language', () => {
    const result = aslValidator(structuredClone(definition));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('first records the job in the jobs table', () => {
    const first = states()[definition.StartAt]!;
    expect(definition.StartAt).toBe('RecordJob');
    expect(first.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(first.Parameters.TableName).toBe(localName(jobsTableId()));
    expect(first.Next).toBe('ResearchCompanies');
  });

  it('fans the companies out over a Distributed Map reading the manifest from S3', () => {
    const map = states().ResearchCompanies!;
    const bucketId = dataBucketId();
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemReader).toMatchObject({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: localName(bucketId) },
    });
    expect(map.ResultWriter).toMatchObject({ Parameters: { Bucket: localName(bucketId) } });
    expect(map.ToleratedFailurePercentage).toBeGreaterThanOrEqual(0);
    expect(map.ToleratedFailurePercentage).toBeLessThan(100);
    expect(map.MaxConcurrency).toBeGreaterThan(0);
  });

  it('runs research, extraction and reflection in order, each on its own function', () => {
    const inner = processor();
    expect(inner.StartAt).toBe('Research');
    expect(inner.States.Research!.Next).toBe('Extract');
    expect(inner.States.Extract!.Next).toBe('Reflect');
    expect(inner.States.Research!.Resource).toBe(functionArn(functionId('research')));
    expect(inner.States.Extract!.Resource).toBe(functionArn(functionId('extraction')));
    expect(inner.States.Reflect!.Resource).toBe(functionArn(functionId('reflection')));
  });

  it('loops back to research until the record is complete or the iterations run out', () => {
    const inner = processor().States;
    const choice = inner[inner.Reflect!.Next]!;
    expect(choice.Type).toBe('Choice');
    expect(choice.Default).toBe('NextIteration');
    expect(inner.NextIteration!.Next).toBe('Research');

    const toStore = (choice.Choices as AslState[]).find((c) => c.Next === 'StoreResult');
    expect(toStore).toBeDefined();
    const condition = JSON.stringify(toStore);
    expect(condition).toContain('$.reflection.is_complete');
    // Without a bound on iterations a company that never completes would loop forever.
    expect(condition).toMatch(/"Variable":"\$\.iteration","NumericGreaterThanEqualsPath":"\$\.max_iterations"/);
    expect(inner.StoreResult!.Resource).toBe(functionArn(functionId('store-result')));
  });

  it.each(['Research', 'Extract', 'Reflect'])('%s retries throttling with jittered backoff and records a failure', (name) => {
    const state = processor().States[name]!;
    const throttled = (state.Retry as AslState[]).find((r) => r.ErrorEquals.includes('ProviderThrottled'));
    expect(throttled).toBeDefined();
    expect(throttled!.BackoffRate).toBeGreaterThan(1);
    expect(throttled!.JitterStrategy).toBe('FULL');
    const outage = (state.Retry as AslState[]).find((r) => r.ErrorEquals.includes('ProviderUnavailable'));
    expect(outage?.ErrorEquals).toEqual(expect.arrayContaining(['States.Timeout', 'Sandbox.Timedout']));
    expect(outage!.BackoffRate).toBeGreaterThan(1);
    // A rejected request (bad key, bad input) fails the same way again: no retry for it.
    expect((state.Retry as AslState[]).some((r) => r.ErrorEquals.includes('ProviderRejected'))).toBe(false);
    expect(state.Catch).toEqual(
      expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' })]),
    );
  });

  it('records a failed company through the storage function', () => {
    expect(processor().States.RecordFailure!.Resource).toBe(functionArn(functionId('store-result')));
  });

  it('assembles the results after the map, then marks the job done', () => {
    expect(states().ResearchCompanies!.Next).toBe('AssembleResults');
    expect(states().AssembleResults!.Resource).toBe(functionArn(functionId('assemble-results')));
    expect(states().AssembleResults!.Next).toBe('MarkJobDone');
    expect(states().MarkJobDone!.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(states().MarkJobDone!.End).toBe(true);
  });

  it("bounds the assembly by its function's own timeout, and retries it when its invocation crashes or is throttled", () => {
    const assembleId = functionId('assemble-results');
    const timeout = resources[assembleId]!.Properties.Timeout as number;
    template.hasResource('AWS::Lambda::Function', {
      Metadata: Match.objectLike({ 'dossier:entry': 'lambdas/handlers/assemble-results.ts' }),
      Properties: Match.objectLike({ Timeout: timeout }),
    });
    expect(timeout).toBeGreaterThanOrEqual(300);
    const assemble = states().AssembleResults!;
    expect(assemble.TimeoutSeconds).toBe(timeout);
    const transient = (assemble.Retry as AslState[]).find((r) => r.ErrorEquals.includes('Runtime.ExitError'));
    expect(transient?.ErrorEquals).toEqual(
      expect.arrayContaining([...LAMBDA_SERVICE_ERRORS, ...LAMBDA_CRASH_ERRORS, 'Lambda.TooManyRequestsException']),
    );
    expect(transient!.MaxAttempts).toBeGreaterThanOrEqual(2);
    expect(transient!.BackoffRate).toBeGreaterThan(1);
  });

  it.each(['Research', 'Extract', 'Reflect', 'StoreResult', 'RecordFailure'])(
    '%s runs again, with backoff, when its Lambda invocation crashes or Lambda fails to run it',
    (name) => {
      const state = processor().States[name]!;
      const transient = (state.Retry as AslState[]).find((r) => r.ErrorEquals.includes('Lambda.Unknown'));
      expect(transient?.ErrorEquals).toEqual(expect.arrayContaining([...LAMBDA_SERVICE_ERRORS, ...LAMBDA_CRASH_ERRORS]));
      expect(transient!.BackoffRate).toBeGreaterThan(1);
      // Storing is idempotent and has no Catch behind it: it gets the most attempts.
      expect(transient!.MaxAttempts).toBe(name === 'StoreResult' || name === 'RecordFailure' ? STORAGE_TRANSIENT_ATTEMPTS : 3);
    },
  );

  it.each(['Research', 'Extract', 'Reflect', 'StoreResult', 'RecordFailure'])('%s is told the job and the company it runs for (its log lines carry them)', (name) => {
    expect(processor().States[name]!.Parameters).toMatchObject({ 'job_id.$': '$.job_id', 'index.$': '$.index' });
  });

  it('marks the job failed when the map or the assembly fails, and fails the execution', () => {
    for (const name of ['ResearchCompanies', 'AssembleResults']) {
      expect(states()[name]!.Catch, name).toEqual(
        expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'MarkJobFailed' })]),
      );
    }
    const markFailed = states().MarkJobFailed!;
    expect(markFailed.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(states()[markFailed.Next]!.Type).toBe('Fail');
  });
});

describe('company machine', () => {
  const processor = () => definition.States.ResearchCompanies!.ItemProcessor as { StartAt: string; States: Record<string, AslState> };
  const logGroupOf = (machine: CfnResource) => (machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

  it('is an EXPRESS machine of five minutes, traced, logging every event without execution data for a month', () => {
    const machine = resources[companyMachine.logicalId]!;
    expect(companyMachine.type).toBe('EXPRESS');
    expect(machine.Properties.StateMachineType).toBe('EXPRESS');
    expect(companyMachine.definition.TimeoutSeconds).toBe(300);
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    // An EXPRESS execution's history exists only in these logs; company data and schemas stay out of them.
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(resources[logGroupOf(machine)]!.Properties.RetentionInDays).toBe(30);
  });

  it('runs exactly the per-company chain of the batch: the same states, retries and timeouts', () => {
    const { ProcessorConfig: _config, ...chain } = processor() as AslState;
    expect(Object.keys(companyMachine.definition.States).sort()).toEqual(Object.keys(chain.States).sort());
    expect(Object.keys(chain.States).sort()).toEqual(['Extract', 'NextIteration', 'RecordComplete?', 'RecordFailure', 'Reflect', 'Research', 'StoreResult']);
    expect(companyMachine.definition.StartAt).toBe(chain.StartAt);
    expect(companyMachine.definition.States).toEqual(chain.States);
  });

  it('is valid Amazon States Language', () => {
    const result = aslValidator(structuredClone(companyMachine.definition));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it("starts a company where the batch's ItemSelector starts it: companyRunInput builds the same object", async () => {
    const map = definition.States.ResearchCompanies!;
    const request = batchRequestSchema.parse({
      companies: ['Brightgull Robotics', 'Mercury'],
      extraction_schema: { type: 'object', properties: { ceo: { type: 'string' } } },
      max_iterations: 3,
    });
    const jobId = 'job-1';
    const items = request.companies.map((company_name, index) => ({ index, company_name }));
    // The deployed ItemSelector, evaluated by the local interpreter over the manifest's items.
    const selector = new StateMachine({
      StartAt: 'Select',
      States: {
        Select: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemSelector: map.ItemSelector,
          ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    } as any);
    const input = { ...executionInput(jobId, { bucket: 'b', key: 'k' }, request), items };
    const selected = await selector.run(input as any).result;
    // Same keys, same constants, same values read from the execution input and the item.
    expect(selected).toEqual(items.map((item) => companyRunInput(jobId, item.index, item.company_name, request)));
  });

  it("resolves a Ref to the machine to the ARN the local endpoint serves it under", () => {
    expect(resolveIntrinsics({ Ref: companyMachine.logicalId }, template.toJSON() as CfnTemplate)).toBe(companyMachine.arn);
    expect(companyMachine.arn).not.toBe(coordinator.arn);
  });

  it('may invoke the four functions of the chain, and nothing else', () => {
    const roleId = (resources[companyMachine.logicalId]!.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })) as CfnResource[];
    const invoked = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[])
      .filter((s) => s.Action === 'lambda:InvokeFunction')
      .map((s) => s.Resource[0]['Fn::GetAtt'][0])
      .sort();
    expect(invoked).toEqual(['research', 'extraction', 'reflection', 'store-result'].map(functionId).sort());
  });
});

describe('API', () => {
  it('is one REST API', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  });

  it('validates the body of POST /research/batch against the batch request model', () => {
    const post = findMethod('POST', '/research/batch');
    const validatorId = (post.Properties.RequestValidatorId as { Ref: string }).Ref;
    expect(resources[validatorId]!.Properties.ValidateRequestBody).toBe(true);

    const modelId = (post.Properties.RequestModels['application/json'] as { Ref: string }).Ref;
    const model = resources[modelId]!;
    expect(model.Type).toBe('AWS::ApiGateway::Model');
    expect(model.Properties.Schema.required).toEqual(expect.arrayContaining(['companies', 'extraction_schema']));
    expect(model.Properties.Schema.properties.companies).toMatchObject({ type: 'array', minItems: 1, maxItems: 10000 });
  });

  it('lets only the webhook-secret route and the task-events function make and read signing secrets, under dossier/webhooks/', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const secretGrants = statements.filter((st: any) => [st.Action].flat().includes('secretsmanager:CreateSecret'));
    expect(secretGrants).toHaveLength(2);
    for (const statement of secretGrants) {
      expect(statement.Action).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:CreateSecret']);
      expect(JSON.stringify(statement.Resource)).toContain(':secret:dossier/webhooks/*');
    }
  });

  it("answers a body the gateway's validator refuses with the validator's own reason, not a generic message", () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('\\$context\\.error\\.validationErrorString') },
    });
  });

  it('sends POST /research/batch to the submit function and GET /jobs/{job_id} to the status function', () => {
    const uri = (method: CfnResource) => JSON.stringify(method.Properties.Integration.Uri);
    expect(uri(findMethod('POST', '/research/batch'))).toContain(functionId('submit-batch'));
    expect(uri(findMethod('GET', '/jobs/{job_id}'))).toContain(functionId('job-status'));
  });

  it("requires a bearer token on every method, checked by the token authorizer with the project's identity", () => {
    const authorizers = template.findResources('AWS::ApiGateway::Authorizer');
    expect(Object.keys(authorizers)).toHaveLength(1);
    const [authorizerId, authorizer] = Object.entries(authorizers)[0]! as [string, CfnResource];
    expect(authorizer.Properties).toMatchObject({ Type: 'TOKEN', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 300 });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(functionId('api-authorizer'));
    const fn = resources[functionId('api-authorizer')]!;
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_URL']));

    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as CfnResource[];
    expect(methods.length).toBeGreaterThanOrEqual(2);
    for (const method of methods) {
      expect(method.Properties, `${method.Properties.HttpMethod} ${methodPath(method)}`).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
    }
  });

  it('answers a refused token with a Bearer challenge', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': Match.stringLikeRegexp('^\'Bearer realm="dossier"') },
    });
  });

  it('throttles the stage', () => {
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0] as CfnResource;
    const settings = stage.Properties.MethodSettings as Record<string, unknown>[];
    const throttled = settings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*');
    expect(throttled?.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(throttled?.ThrottlingBurstLimit).toBeGreaterThan(0);
  });

  it('sends POST /research/single, behind the token authorizer and validated against its model, to a 29 s function', () => {
    const post = findMethod('POST', '/research/single');
    expect(post.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: logicalIdOf('AWS::ApiGateway::Authorizer') } });
    expect(JSON.stringify(post.Properties.Integration.Uri)).toContain(functionId('research-single'));
    expect(resources[functionId('research-single')]!.Properties.Timeout).toBe(29);
    expect(resources[(post.Properties.RequestValidatorId as { Ref: string }).Ref]!.Properties.ValidateRequestBody).toBe(true);
    const model = resources[(post.Properties.RequestModels['application/json'] as { Ref: string }).Ref]!;
    expect(model.Type).toBe('AWS::ApiGateway::Model');
    // From singleResearchRequestSchema: closed, so the gateway refuses max_iteration as the handler does.
    expect(model.Properties.Schema).toMatchObject({ type: 'object', additionalProperties: false, properties: { max_iterations: { minimum: 1, maximum: 5 } } });
    expect(model.Properties.Schema.required).toEqual(expect.arrayContaining(['company_name', 'extraction_schema']));
  });

  it('lets the POST /research/single function run the EXPRESS company machine synchronously, and start no batch', () => {
    const roleId = (resources[functionId('research-single')]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = (Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } })) as CfnResource[])
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
    const allowed = (action: string, machine: string) =>
      statements.some((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action) && JSON.stringify([s.Resource].flat()).includes(JSON.stringify({ Ref: machine })));
    expect(companyMachine.type).toBe('EXPRESS');
    expect(allowed('states:StartSyncExecution', companyMachine.logicalId)).toBe(true);
    expect(allowed('states:StartExecution', coordinator.logicalId)).toBe(false);
  });

  const roleStatements = (handler: string) => {
    const roleId = (resources[functionId(handler)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } })) as CfnResource[];
    return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
  };

  it('serves job control (list, results links, cancel), each by its own function behind the token authorizer', () => {
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer');
    for (const [httpMethod, path, handler] of [['GET', '/jobs', 'list-jobs'], ['GET', '/jobs/{job_id}/results', 'job-results'], ['POST', '/jobs/{job_id}/cancel', 'cancel-job']] as const) {
      const method = findMethod(httpMethod, path);
      expect(method.Properties, `${httpMethod} ${path}`).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(functionId(handler));
    }
  });

  it("opens every method of the template to some scope: the authorizer's routes (api-access.ts) miss none", () => {
    const stage = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1';
    const everything = policyFor(stage, ALL_SCOPES);
    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method')) as CfnResource[]) {
      const path = methodPath(method).replace(/\{[^}]+\}/g, '0b6c2c1e-0000-4000-8000-000000000000');
      expect(policyAllows(everything, `${stage}/${method.Properties.HttpMethod}${path}`), `${method.Properties.HttpMethod} ${path}`).toBe(true);
    }
  });

  it('indexes the jobs table by client and creation time, keys only, for GET /jobs', () => {
    const table = resources[jobsTableId()]!;
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: JOBS_BY_CLIENT_INDEX,
        KeySchema: [{ AttributeName: 'submitted_by', KeyType: 'HASH' }, { AttributeName: 'created_at', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
  });

  it('lets the results function read the two results files and do nothing else in the bucket', () => {
    const bucketArn = { 'Fn::GetAtt': [dataBucketId(), 'Arn'] };
    const s3 = roleStatements('job-results').filter((s) => [s.Action].flat().some((action: string) => action.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [{ 'Fn::Join': ['', [bucketArn, '/jobs/*/results.jsonl']] }, { 'Fn::Join': ['', [bucketArn, '/jobs/*/results.csv']] }],
      },
    ]);
  });

  it("lets the cancel function stop the coordinator's executions, and start none", () => {
    const states = roleStatements('cancel-job').filter((s) => [s.Action].flat().some((action: string) => action.startsWith('states:')));
    expect(states.flatMap((s) => [s.Action].flat())).toEqual(['states:StopExecution']);
    expect(JSON.stringify(states[0]!.Resource)).toContain(':execution:');
  });
});

describe('permissions', () => {
  const statementsOfFunctionRole = (handler: string) => {
    const roleId = (resources[functionId(handler)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    ) as CfnResource[];
    return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
  };
  const allows = (statements: Record<string, any>[], action: string, resource: unknown) =>
    statements.some(
      (s) => s.Effect === 'Allow' && [s.Action].flat().includes(action) && JSON.stringify([s.Resource].flat()).includes(JSON.stringify(resource)),
    );

  it('lets the submit function start the state machine, and the status function not', () => {
    const machine = { Ref: coordinator.logicalId };
    expect(allows(statementsOfFunctionRole('submit-batch'), 'states:StartExecution', machine)).toBe(true);
    expect(allows(statementsOfFunctionRole('job-status'), 'states:StartExecution', machine)).toBe(false);
  });

  /**
   * What a function may do with Dossier's data, read from its role: actions by table (`jobs`, `jobs/index/by_client`…)
   * and by bucket key pattern (`bucket/jobs/*\/results/*`; `bucket` alone for a listing, with its prefix).
   */
  function dataAccess(handler: string): Record<string, string[]> {
    const tableNames: Record<string, string> = {
      [jobsTableId()]: 'jobs',
      [logicalIdOf('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: 'cache_key', KeyType: 'HASH' }] } })]: 'search-cache',
      [logicalIdOf('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: 'quota_key', KeyType: 'HASH' }] } })]: 'quotas',
      [logicalIdOf('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: 'limit_key', KeyType: 'HASH' }] } })]: 'rate-limits',
      [logicalIdOf('AWS::DynamoDB::Table', { Properties: { KeySchema: Match.arrayWith([{ AttributeName: 'pk', KeyType: 'HASH' }]) } })]: 'tasks',
      [dataBucketId()]: 'bucket',
    };
    const nameOf = (resource: any): string | undefined => {
      const getAtt = resource?.['Fn::GetAtt'];
      if (getAtt) return tableNames[getAtt[0]];
      const join = resource?.['Fn::Join'];
      if (join && join[1].length === 2) {
        const base = nameOf(join[1][0]);
        return base && `${base}${join[1][1]}`;
      }
      return undefined;
    };
    const access: Record<string, string[]> = {};
    for (const statement of statementsOfFunctionRole(handler).filter((s) => s.Effect === 'Allow')) {
      for (const resource of [statement.Resource].flat()) {
        let name = nameOf(resource);
        if (!name) continue;
        const prefix = statement.Condition?.StringLike?.['s3:prefix'];
        if (prefix) name = `${name} (prefix ${prefix})`;
        access[name] = [...(access[name] ?? []), ...[statement.Action].flat()].sort();
      }
    }
    return access;
  }

  const TASK_STORE = {
    tasks: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    'tasks/index/by_owner': ['dynamodb:Query'],
  };
  const COUNTS_REQUESTS = { quotas: ['dynamodb:UpdateItem'] };
  // The functions that call providers take their place in the shared rate limits (lambdas/store/rate-limit-store.ts).
  const PACED = { 'rate-limits': ['dynamodb:UpdateItem'] };
  const RESERVES_UNITS = { quotas: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] };
  // Reading a job is its item and its progress items (BatchGetItem, lambdas/store/job-store.ts).
  const JOB_WRITER = { jobs: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] };
  const COUNTER = { jobs: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'] };
  const WRITES_MANIFEST = { 'bucket/jobs/*/manifest-*.json': ['s3:PutObject'] };
  const WRITES_SETTINGS = { 'bucket/jobs/*/settings-*.json': ['s3:PutObject'] };

  // Each function's actions are the ones its handler sends (lambdas/store/*.ts, lambdas/shared/*.ts): no Scan, no
  // BatchWriteItem, no DeleteItem outside the A2A push configs, no listing but the assembly's, no object deleted.
  it.each([
    [
      'research',
      {
        'search-cache': ['dynamodb:GetItem', 'dynamodb:PutItem'],
        jobs: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
        ...TASK_STORE,
        ...RESERVES_UNITS,
        ...PACED,
        'bucket/search-results/*': ['s3:PutObject'],
      },
    ],
    ['extraction', { ...TASK_STORE, ...PACED }],
    ['reflection', TASK_STORE],
    [
      'store-result',
      { ...COUNTER, 'bucket/jobs/*/results/*': ['s3:PutObject'], 'bucket/jobs/*/results.jsonl': ['s3:PutObject'], 'bucket/jobs/*/results.csv': ['s3:PutObject'] },
    ],
    [
      'assemble-results',
      {
        ...COUNTER,
        'bucket/jobs/*/manifest-*.json': ['s3:GetObject'],
        'bucket/jobs/*/results/*': ['s3:GetObject', 's3:PutObject'],
        'bucket/jobs/*/results.jsonl': ['s3:AbortMultipartUpload', 's3:PutObject'],
        'bucket/jobs/*/results.csv': ['s3:AbortMultipartUpload', 's3:PutObject'],
        'bucket (prefix jobs/*/results/)': ['s3:ListBucket'],
      },
    ],
    ['coordinator-agent', { ...TASK_STORE, ...JOB_WRITER, ...RESERVES_UNITS, ...WRITES_MANIFEST, ...WRITES_SETTINGS, 'bucket/jobs/*/results/*': ['s3:GetObject'] }],
    ['a2a-task-events', { ...COUNTER, tasks: ['dynamodb:PutItem', 'dynamodb:Query'] }],
    ['submit-batch', { ...JOB_WRITER, ...RESERVES_UNITS, ...WRITES_MANIFEST, ...WRITES_SETTINGS }],
    [
      'research-single',
      { jobs: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], ...RESERVES_UNITS, ...WRITES_MANIFEST, 'bucket/jobs/*/results/*': ['s3:GetObject'] },
    ],
    ['job-status', { jobs: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'], ...COUNTS_REQUESTS }],
    ['list-jobs', { jobs: ['dynamodb:BatchGetItem'], [`jobs/index/${JOBS_BY_CLIENT_INDEX}`]: ['dynamodb:Query'], ...COUNTS_REQUESTS }],
    ['job-results', { jobs: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'], ...COUNTS_REQUESTS, 'bucket/jobs/*/results.jsonl': ['s3:GetObject'], 'bucket/jobs/*/results.csv': ['s3:GetObject'] }],
    ['cancel-job', { ...COUNTER, ...COUNTS_REQUESTS }],
    [
      'redrive-job',
      { ...COUNTER, ...RESERVES_UNITS, 'bucket/jobs/*/manifest-*.json': ['s3:GetObject'], 'bucket/jobs/*/settings-*.json': ['s3:GetObject'], 'bucket/jobs/*/redrive-*.json': ['s3:PutObject'] },
    ],
    ['webhook-secret', COUNTS_REQUESTS],
    ['api-authorizer', {}],
  ] as [string, Record<string, string[]>][])('gives %s exactly the data access its handler uses', (handler, expected) => {
    expect(dataAccess(handler)).toEqual(expected);
  });
});
