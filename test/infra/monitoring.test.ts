/**
 * Operations (lib/monitoring.ts) in the whole stack: the dashboard charts the metrics the handlers emit and the
 * machines, functions and API report, and each alarm watches the right metric, notifies the alarm topic and says
 * what to look at.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Pass, StateMachine, StateMachineType, DefinitionBody } from 'aws-cdk-lib/aws-stepfunctions';
import { DossierStack } from '../../lib/dossier-stack';
import { Monitoring } from '../../lib/monitoring';

type CfnResource = { Type: string; Properties: Record<string, any> };

let template: Template;
let resources: Record<string, CfnResource>;
let dashboardBody: string;

const AGENTS = ['Research', 'Extraction', 'Reflection', 'Storage', 'Assemble', 'CoordinatorAgent'];

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], alarmEmail: 'ops@example.com' } });
  template = Template.fromStack(new DossierStack(app, 'DossierTest'));
  resources = template.toJSON().Resources;
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as CfnResource[];
  expect(dashboards).toHaveLength(1);
  // The body is a Fn::Join around the resources' names; its literal parts hold every metric's namespace and name.
  dashboardBody = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
});

const logicalIdOf = (type: string, props: object) => {
  const found = Object.keys(template.findResources(type, props));
  expect(found, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0]!;
};
const stateMachineId = (type: 'STANDARD' | 'EXPRESS') => logicalIdOf('AWS::StepFunctions::StateMachine', { Properties: { StateMachineType: type } });
const topicId = () => logicalIdOf('AWS::SNS::Topic', { Properties: { DisplayName: 'DossierTest alarms' } });
const alarmNamed = (name: string): CfnResource => {
  const alarm = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === `DossierTest-${name}`);
  expect(alarm, name).toBeDefined();
  return alarm!;
};

describe('dashboard', () => {
  it('charts the metrics the handlers emit, in the Dossier namespace with the service dimension Powertools writes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'DossierTest-operations' });
    for (const metric of ['CompaniesSubmitted', 'CompaniesCompleted', 'CompaniesFailed', 'SearchQueries', 'ProviderThrottled']) {
      expect(dashboardBody).toContain(`[\\"Dossier\\",\\"${metric}\\",\\"service\\",\\"dossier\\"`);
    }
  });

  it("charts both state machines' executions", () => {
    for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      expect(dashboardBody).toContain(`[\\"AWS/States\\",\\"${metric}\\",\\"StateMachineArn\\",\\"`);
    }
    expect(dashboardBody).toContain(`{"Ref":"${stateMachineId('STANDARD')}"}`);
    expect(dashboardBody).toContain(`{"Ref":"${stateMachineId('EXPRESS')}"}`);
    expect(dashboardBody).toContain('Single-company executions (company machine)');
  });

  it('charts errors, throttles and duration p95 of every agent function', () => {
    for (const title of ['Lambda errors', 'Lambda throttles', 'Lambda duration p95']) expect(dashboardBody).toContain(title);
    for (const metric of ['Errors', 'Throttles', 'Duration']) expect(dashboardBody).toContain(`[\\"AWS/Lambda\\",\\"${metric}\\",\\"FunctionName\\",\\"`);
    expect(dashboardBody).toContain('\\"stat\\":\\"p95\\"');
    for (const name of AGENTS) expect(dashboardBody).toContain(`\\"label\\":\\"${name}\\"`);
  });

  it("charts the API's 4xx, 5xx and latency", () => {
    for (const metric of ['4XXError', '5XXError', 'Count', 'Latency']) expect(dashboardBody).toContain(`[\\"AWS/ApiGateway\\",\\"${metric}\\",\\"ApiName\\",\\"`);
  });
});

describe('alarms', () => {
  it('notify the alarm topic, to which the alarmEmail context subscribes an address', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId() } });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as CfnResource[];
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions, alarm.Properties.AlarmName).toEqual([{ Ref: topicId() }]);
      expect(alarm.Properties.TreatMissingData, alarm.Properties.AlarmName).toBe('notBreaching');
      expect(alarm.Properties.AlarmDescription, alarm.Properties.AlarmName).toMatch(/[Ll]ook at/);
    }
  });

  it("topic takes TLS publishers only, and still lets this stack's alarms publish (its policy replaces SNS's default one)", () => {
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: topicId() }] } })) as CfnResource[];
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement as Record<string, any>[];
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
      ]),
    );
    const allow = statements.find((s) => s.Effect === 'Allow')!;
    // Only alarms named after this stack, as every alarm here is.
    expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:DossierTest-*');
    const alarmNames = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as CfnResource[]).map((a) => a.Properties.AlarmName as string);
    for (const name of alarmNames) expect(name).toMatch(/^DossierTest-/);
  });

  it('company failure rate: failed / (completed + failed) over 15 minutes above 5 %', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'DossierTest-company-failure-rate',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 5,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('CompaniesFailed / \\(CompaniesCompleted \\+ CompaniesFailed\\)'),
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * FILL(failed, 0) / (FILL(completed, 0) + FILL(failed, 0))', ReturnData: true }),
        ...['completed', 'failed'].map((id) =>
          Match.objectLike({
            Id: id,
            ReturnData: false,
            MetricStat: Match.objectLike({
              Period: 900,
              Stat: 'Sum',
              Metric: { Namespace: 'Dossier', MetricName: id === 'completed' ? 'CompaniesCompleted' : 'CompaniesFailed', Dimensions: [{ Name: 'service', Value: 'dossier' }] },
            }),
          }),
        ),
      ]),
    });
  });

  it('Lambda throttles: the sum over every agent function above 0 in 5 minutes', () => {
    const alarm = alarmNamed('lambda-throttles');
    expect(alarm.Properties).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
    const metrics = alarm.Properties.Metrics as any[];
    const expression = metrics.find((m) => m.Expression);
    const throttles = metrics.filter((m) => m.MetricStat);
    expect(throttles).toHaveLength(AGENTS.length);
    expect(expression.Expression).toBe(throttles.map((m) => `FILL(${m.Id}, 0)`).join(' + '));
    for (const m of throttles) expect(m.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', MetricName: 'Throttles' }, Period: 300, Stat: 'Sum' });
    // One of them is each agent's function.
    for (const handler of ['research', 'extraction', 'reflection', 'store-result', 'assemble-results', 'coordinator-agent']) {
      const fnId = logicalIdOf('AWS::Lambda::Function', { Metadata: { 'dossier:entry': `lambdas/handlers/${handler}.ts` } });
      expect(throttles.some((m) => m.MetricStat.Metric.Dimensions[0].Value.Ref === fnId), handler).toBe(true);
    }
    expect(alarm.Properties.AlarmDescription).toMatch(/Lambda throttles widget/);
  });

  it('provider throttles: ProviderThrottled above 10 in 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'DossierTest-provider-throttles',
      Namespace: 'Dossier',
      MetricName: 'ProviderThrottled',
      Dimensions: [{ Name: 'service', Value: 'dossier' }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 10,
      AlarmDescription: Match.stringLikeRegexp('maxConcurrency'),
    });
  });

  it('batch failed: coordinator ExecutionsFailed above 0', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'DossierTest-batch-failed',
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId('STANDARD') } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmDescription: Match.stringLikeRegexp('Step Functions console'),
    });
  });

  it('stuck jobs: ExecutionsTimedOut above 0, of the coordinator and of the company machine', () => {
    for (const [name, type] of [['batch-timed-out', 'STANDARD'], ['company-timed-out', 'EXPRESS']] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `DossierTest-${name}`,
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsTimedOut',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId(type) } }],
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmDescription: Match.stringLikeRegexp('timeout'),
      });
    }
  });

  it('API 5xx: more than 1 % of the requests in 5 minutes', () => {
    const apiName = { Name: 'ApiName', Value: Match.anyValue() };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'DossierTest-api-5xx-rate',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * FILL(errors, 0) / requests' }),
        Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Period: 300, Stat: 'Sum', Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Dimensions: [apiName] } }) }),
        Match.objectLike({ Id: 'requests', MetricStat: Match.objectLike({ Period: 300, Stat: 'Sum', Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: [apiName] } }) }),
      ]),
      AlarmDescription: Match.stringLikeRegexp('5xx'),
    });
  });
});

describe('without alarmEmail', () => {
  it('creates the topic but subscribes nobody', () => {
    const stack = new Stack(new App(), 'Bare');
    const fn = new LambdaFunction(stack, 'Fn', { runtime: Runtime.NODEJS_20_X, handler: 'index.handler', code: Code.fromInline('exports.handler=()=>{}') });
    const machine = (id: string, type: StateMachineType) =>
      new StateMachine(stack, id, { definitionBody: DefinitionBody.fromChainable(new Pass(stack, `${id}Pass`)), stateMachineType: type });
    const restApi = new RestApi(stack, 'Api');
    restApi.root.addMethod('GET');
    new Monitoring(stack, 'Monitoring', {
      coordinator: machine('Coordinator', StateMachineType.STANDARD),
      companyMachine: machine('Company', StateMachineType.EXPRESS),
      functions: { Fn: fn },
      restApi,
    });
    const bare = Template.fromStack(stack);
    bare.resourceCountIs('AWS::SNS::Topic', 1);
    bare.resourceCountIs('AWS::SNS::Subscription', 0);
    bare.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });
});
