/**
 * The A2A side of the whole Dossier stack (lib/a2a.ts, lib/identity.ts, the tasks table of lib/storage.ts): four
 * public function URLs whose functions verify bearer tokens themselves, the identity that issues those tokens,
 * the coordinator agent's rights on the two state machines, and the rule that ends a batch's A2A task.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENTRY_METADATA_KEY, PROJECT_ROOT } from '../../lib/agent-function';
import { DossierStack } from '../../lib/dossier-stack';
// The local runtime resolves definitions the way CloudFormation would; the assertions reuse it.
import { functionArn, resolveIntrinsics, stateMachineByRole, type CfnTemplate, type LocalStateMachine } from '../../local/template';

type CfnResource = { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> };
type AslState = Record<string, any>;

/** The three agents of the per-company chain: the state's name, and the handler of the function it must invoke. */
const CHAIN_AGENTS = [
  ['Research', 'research'],
  ['Extract', 'extraction'],
  ['Reflect', 'reflection'],
] as const;
const AUTH_VARIABLES = ['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_URL', 'AUTH_TOKEN_URL', 'TASKS_TABLE_NAME'];

let template: Template;
let cfn: CfnTemplate;
let resources: Record<string, CfnResource>;
let coordinatorMachine: LocalStateMachine;
let companyMachine: LocalStateMachine;

beforeAll(() => {
  // The app `cdk deploy` runs: cdk.json's context, the stack's own name. Only the bundling is skipped.
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new DossierStack(app, 'Dossier'));
  cfn = template.toJSON() as CfnTemplate;
  resources = cfn.Resources as Record<string, CfnResource>;
  coordinatorMachine = stateMachineByRole(cfn, 'coordinator');
  companyMachine = stateMachineByRole(cfn, 'company');
});

const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

function onlyId(type: string, props: object = {}): string {
  const ids = Object.keys(template.findResources(type, props));
  expect(ids, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return ids[0]!;
}

const functionId = (handler: string) => onlyId('AWS::Lambda::Function', { Metadata: { [ENTRY_METADATA_KEY]: `lambdas/handlers/${handler}.ts` } });

/** The function a state machine's task invokes: its Resource, or FunctionName for the lambda:invoke integration. */
function invokedFunctionId(state: AslState): string {
  const integration = typeof state.Resource === 'string' && state.Resource.startsWith('arn:aws:states:::lambda:invoke');
  const arn = integration ? state.Parameters?.FunctionName : state.Resource;
  const byArn = new Map(Object.keys(template.findResources('AWS::Lambda::Function')).map((id) => [functionArn(id), id]));
  const id = byArn.get(String(arn).replace(/:\$LATEST$/, ''));
  expect(id, `the function behind ${JSON.stringify(arn)}`).toBeDefined();
  return id!;
}

/** Every state of that name in a definition, nested item processors and branches included. */
function statesNamed(definition: Record<string, any>, name: string): AslState[] {
  const found: AslState[] = [];
  const visit = (graph: { States?: Record<string, AslState> } | undefined) => {
    for (const [stateName, state] of Object.entries(graph?.States ?? {})) {
      if (stateName === name) found.push(state);
      visit(state.ItemProcessor ?? state.Iterator);
      for (const branch of state.Branches ?? []) visit(branch);
    }
  };
  visit(definition);
  return found;
}

/** The logical ids of the functions behind the function URLs, optionally only those of one invoke mode. */
function urlTargets(invokeMode?: 'BUFFERED' | 'RESPONSE_STREAM'): string[] {
  const urls = Object.values(template.findResources('AWS::Lambda::Url', invokeMode ? { Properties: { InvokeMode: invokeMode } } : {})) as CfnResource[];
  return urls.map((url) => (url.Properties.TargetFunctionArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]).sort();
}

function urlIdOf(functionLogicalId: string): string {
  return onlyId('AWS::Lambda::Url', { Properties: { TargetFunctionArn: arnOf(functionLogicalId) } });
}

function statementsOfRole(functionLogicalId: string): Record<string, any>[] {
  const roleId = (resources[functionLogicalId]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([ref(roleId)]) } })) as CfnResource[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
}

const environmentOf = (functionLogicalId: string) => (resources[functionLogicalId]!.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;

describe('function URLs', () => {
  it('are exactly four, all with auth type NONE (the functions verify the bearer tokens)', () => {
    template.resourceCountIs('AWS::Lambda::Url', 4);
    template.allResourcesProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });

  it('stream only the coordinator agent', () => {
    expect(urlTargets('RESPONSE_STREAM')).toEqual([functionId('coordinator-agent')]);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: arnOf(functionId('coordinator-agent')),
    });
    // Lambda's maximum: the coordinator waits for a whole company on the EXPRESS machine (five minutes at most).
    expect(resources[functionId('coordinator-agent')]!.Properties.Timeout).toBe(900);
  });

  it('buffer the research, extraction and reflection agents', () => {
    expect(urlTargets('BUFFERED')).toEqual(['research', 'extraction', 'reflection'].map(functionId).sort());
    for (const handler of ['research', 'extraction', 'reflection']) {
      template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', InvokeMode: 'BUFFERED', TargetFunctionArn: arnOf(functionId(handler)) });
    }
  });

  it.each(CHAIN_AGENTS)('front the very function the state machines run as %s', (stateName, handler) => {
    const buffered = urlTargets('BUFFERED');
    for (const machine of [coordinatorMachine, companyMachine]) {
      const states = statesNamed(machine.definition, stateName);
      expect(states, `${machine.role} machine: one ${stateName} state`).toHaveLength(1);
      const invoked = invokedFunctionId(states[0]!);
      expect(resources[invoked]!.Metadata?.[ENTRY_METADATA_KEY], `${machine.role} ${stateName}`).toBe(`lambdas/handlers/${handler}.ts`);
      expect(buffered, `${machine.role} ${stateName}`).toContain(invoked);
    }
  });

  it('are public: anyone may call the URL, and invoke the function only through it', () => {
    for (const target of urlTargets()) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunctionUrl',
        FunctionName: arnOf(target),
        Principal: '*',
        FunctionUrlAuthType: 'NONE',
      });
      // Required since October 2025 for public function URLs, besides lambda:InvokeFunctionUrl.
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(target),
        Principal: '*',
        InvokedViaFunctionUrl: true,
      });
    }
    // A public lambda:InvokeFunction without the condition would open the Invoke API itself to anyone.
    const publicInvokes = Object.entries(template.findResources('AWS::Lambda::Permission', { Properties: { Action: 'lambda:InvokeFunction', Principal: '*' } })) as [string, CfnResource][];
    expect(publicInvokes).toHaveLength(4);
    for (const [id, permission] of publicInvokes) expect(permission.Properties.InvokedViaFunctionUrl, id).toBe(true);
  });

  it('give every URL function the token settings and the tasks table', () => {
    const tasksTable = ref(onlyId('AWS::DynamoDB::Table', { Properties: { GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'by_owner' })]) } }));
    const client = ref(onlyId('AWS::Cognito::UserPoolClient'));
    const tokenUrl = template.toJSON().Outputs.TokenUrl.Value;
    for (const target of urlTargets()) {
      template.hasResource('AWS::Lambda::Function', {
        Metadata: { [ENTRY_METADATA_KEY]: resources[target]!.Metadata?.[ENTRY_METADATA_KEY] },
        Properties: {
          Environment: {
            Variables: {
              AUTH_ISSUER: Match.anyValue(),
              AUTH_AUDIENCE: client,
              AUTH_JWKS_URL: Match.anyValue(),
              AUTH_TOKEN_URL: tokenUrl,
              TASKS_TABLE_NAME: tasksTable,
            },
          },
        },
      });
      const environment = resolveIntrinsics(environmentOf(target), cfn) as Record<string, string>;
      expect(Object.keys(environment), target).toEqual(expect.arrayContaining(AUTH_VARIABLES));
      expect(environment.AUTH_ISSUER, target).toMatch(/^https:\/\/cognito-idp\.[^/]+\/[^/]+$/);
      expect(environment.AUTH_JWKS_URL, target).toBe(`${environment.AUTH_ISSUER}/.well-known/jwks.json`);
    }
  });

  it('hold no key or secret in a URL function environment, only secret ARNs', () => {
    for (const target of urlTargets()) {
      const variables = environmentOf(target);
      for (const [name, value] of Object.entries(variables).filter(([n]) => /KEY|SECRET/i.test(n))) {
        expect(typeof value, `${target} ${name} is a literal`).not.toBe('string');
        expect(name, target).toMatch(/_ARN$/);
        expect(resolveIntrinsics(value, cfn), `${target} ${name}`).toMatch(/^arn:aws:secretsmanager:/);
      }
    }
  });

  it("let every URL function do on the tasks table what the A2A task store does, and query by_owner, no other index", () => {
    const tasksTableId = onlyId('AWS::DynamoDB::Table', { Properties: { GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'by_owner' })]) } });
    const tableArn = arnOf(tasksTableId);
    const ownerIndex = { 'Fn::Join': ['', [tableArn, '/index/by_owner']] };
    for (const target of urlTargets()) {
      const statements = statementsOfRole(target).filter((s) => s.Effect === 'Allow');
      const actionsOn = (resource: unknown) =>
        statements.filter((s) => [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(resource))).flatMap((s) => [s.Action].flat()).sort();
      // lambdas/store/a2a-task-store.ts: Get, Put, Delete (push configs), Query per task, BatchGet (a ListTasks page).
      expect(actionsOn(tableArn), target).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      expect(actionsOn(ownerIndex), target).toEqual(['dynamodb:Query']);
      const onTasksTable = statements.filter((s) => JSON.stringify(s.Resource).includes(JSON.stringify(tableArn)));
      expect(JSON.stringify(onTasksTable.map((s) => s.Resource)), target).not.toContain('/index/*');
    }
  });
});

describe('tasks table', () => {
  it('expires tasks on expires_at and lists them by owner', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'by_owner' })]),
    });
  });
});

describe('identity', () => {
  it('is one Cognito user pool with a domain', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { UserPoolId: ref(onlyId('AWS::Cognito::UserPool')) });
  });

  it('declares the dossier resource server with the research and read scopes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'dossier',
      UserPoolId: ref(onlyId('AWS::Cognito::UserPool')),
      Scopes: Match.arrayWith([Match.objectLike({ ScopeName: 'research' }), Match.objectLike({ ScopeName: 'read' })]),
    });
  });

  it('has a machine client: client credentials only, with a generated secret and both scopes', () => {
    const resourceServer = ref(onlyId('AWS::Cognito::UserPoolResourceServer'));
    const scope = (name: string) => ({ 'Fn::Join': ['', [resourceServer, `/${name}`]] });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: ref(onlyId('AWS::Cognito::UserPool')),
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      GenerateSecret: true,
      AllowedOAuthScopes: Match.arrayWith([scope('research'), scope('read')]),
    });
  });
});

describe('coordinator agent', () => {
  it('starts one company synchronously on the EXPRESS machine and a batch on the STANDARD one', () => {
    expect(companyMachine.type).toBe('EXPRESS');
    expect(coordinatorMachine.type).toBe('STANDARD');
    const roleId = (resources[functionId('coordinator-agent')]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const allowed = (action: string, machineId: string) =>
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: Match.arrayWith([ref(roleId)]),
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: action, Resource: ref(machineId) })]) },
      });
    allowed('states:StartSyncExecution', companyMachine.logicalId);
    allowed('states:StartExecution', coordinatorMachine.logicalId);
  });

  it('does not start batches synchronously nor companies asynchronously', () => {
    const statements = statementsOfRole(functionId('coordinator-agent'));
    const grants = (action: string, machineId: string) =>
      statements.some((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action) && JSON.stringify(s.Resource).includes(JSON.stringify(ref(machineId))));
    expect(grants('states:StartSyncExecution', coordinatorMachine.logicalId)).toBe(false);
    expect(grants('states:StartExecution', companyMachine.logicalId)).toBe(false);
  });

  it('knows both machines', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ STATE_MACHINE_ARN: ref(coordinatorMachine.logicalId), COMPANY_STATE_MACHINE_ARN: ref(companyMachine.logicalId) }),
      },
      Timeout: 900,
    });
  });
});

describe('task events', () => {
  it('a rule sends the end of every coordinator execution to the task-events function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [ref(coordinatorMachine.logicalId)],
          status: Match.arrayWith(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
        },
      },
      State: 'ENABLED',
      Targets: Match.arrayWith([Match.objectLike({ Arn: arnOf(functionId('a2a-task-events')) })]),
    });
  });

  it('EventBridge may invoke the task-events function for that rule', () => {
    const ruleId = onlyId('AWS::Events::Rule', { Properties: { Targets: Match.arrayWith([Match.objectLike({ Arn: arnOf(functionId('a2a-task-events')) })]) } });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: arnOf(functionId('a2a-task-events')),
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(ruleId),
    });
  });
});

describe('outputs', () => {
  it.each([
    ['ResearchAgentUrl', 'research'],
    ['ExtractionAgentUrl', 'extraction'],
    ['ReflectionAgentUrl', 'reflection'],
    ['CoordinatorAgentUrl', 'coordinator-agent'],
  ])('%s is the URL of the %s function', (output, handler) => {
    template.hasOutput(output, { Value: { 'Fn::GetAtt': [urlIdOf(functionId(handler)), 'FunctionUrl'] } });
  });

  it('TokenUrl is the token endpoint of the Cognito domain', () => {
    const domain = ref(onlyId('AWS::Cognito::UserPoolDomain'));
    template.hasOutput('TokenUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([domain])] } });
    const url = resolveIntrinsics(template.toJSON().Outputs.TokenUrl.Value, cfn) as string;
    expect(url).toMatch(/^https:\/\/[^/]+\.auth\.[^/]+\.amazoncognito\.com\/oauth2\/token$/);
  });
});

describe('the cards’ provider', () => {
  const agentEnvironments = (context: Record<string, unknown>) => {
    const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const t = Template.fromStack(new DossierStack(app, 'Dossier'));
    return Object.values(t.findResources('AWS::Lambda::Function'))
      .filter((fn) => fn.Properties.Environment?.Variables?.AUTH_TOKEN_URL)
      .map((fn) => fn.Properties.Environment.Variables as Record<string, unknown>);
  };

  it('reaches every agent from -c agentProviderName/agentProviderUrl, and is absent by default', () => {
    const configured = agentEnvironments({ agentProviderName: 'Acme Research', agentProviderUrl: 'https://acme.example' });
    expect(configured).toHaveLength(4);
    for (const env of configured) expect(env).toMatchObject({ AGENT_PROVIDER_NAME: 'Acme Research', AGENT_PROVIDER_URL: 'https://acme.example' });
    for (const env of agentEnvironments({})) expect(env.AGENT_PROVIDER_NAME).toBeUndefined();
    expect(() => agentEnvironments({ agentProviderName: 'Acme Research' })).toThrow(/give both or neither/);
  });
});
