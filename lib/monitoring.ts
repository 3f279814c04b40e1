/**
 * Operations: one CloudWatch dashboard and the alarms that say something is wrong with the batches, the agents or
 * the API. The alarms notify one SNS topic; `alarmEmail` subscribes an address to it.
 *
 * Dossier's own metrics are what the handlers count with Powertools Metrics (lambdas/shared/observability.ts): the
 * namespace `Dossier`, one dimension `service` = POWERTOOLS_SERVICE_NAME (lib/agent-function.ts sets 'dossier').
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Where Powertools Metrics puts the handlers' metrics (lambdas/shared/observability.ts, lib/agent-function.ts). */
export const METRICS_NAMESPACE = 'Dossier';
export const SERVICE_NAME = 'dossier';

export interface MonitoringProps {
  /** The batch machine (STANDARD). */
  coordinator: IStateMachine;
  /** One company at a time (EXPRESS). */
  companyMachine: IStateMachine;
  /** The agent functions, by the name the dashboard and the alarms show. */
  functions: Record<string, IFunction>;
  restApi: RestApi;
  /** Subscribes this address to the alarm topic (it has to confirm the subscription). */
  alarmEmail?: string;
  /** Provider throttles in 5 minutes above which the retries are no longer enough. */
  providerThrottleThreshold?: number;
}

export class Monitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly alarmTopic: Topic;
  readonly alarms: {
    companyFailureRate: Alarm;
    functionThrottles: Alarm;
    providerThrottles: Alarm;
    coordinatorFailed: Alarm;
    coordinatorTimedOut: Alarm;
    companyMachineTimedOut: Alarm;
    api5xxRate: Alarm;
  };

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { coordinator, companyMachine, restApi } = props;
    const functions = Object.entries(props.functions);
    const prefix = Stack.of(this).stackName;

    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: `${prefix} alarms`, enforceSSL: true });
    // Publishers must use TLS. That takes a topic policy, which replaces SNS's default one (the one that let the
    // account's alarms publish): allow this stack's alarms again, by name.
    const stack = Stack.of(this);
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${prefix}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const notify = new SnsAction(this.alarmTopic);

    const dossierMetric = (metricName: string, period = Duration.minutes(5)) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic: Stats.SUM, period });
    // FILL(…, 0): the handlers emit a count only when it happens; a missing point is zero, not a gap in the sum.
    const sumOf = (metrics: Record<string, IMetric>) => Object.keys(metrics).map((key) => `FILL(${key}, 0)`).join(' + ');

    // ── Alarms ───────────────────────────────────────────────────────────────────────
    const window = Duration.minutes(15);
    const failureRate = new MathExpression({
      label: 'Company failure rate (%)',
      // No companies in the window divides by zero: no value, which the alarm treats as not breaching.
      expression: '100 * FILL(failed, 0) / (FILL(completed, 0) + FILL(failed, 0))',
      usingMetrics: { completed: dossierMetric('CompaniesCompleted', window), failed: dossierMetric('CompaniesFailed', window) },
      period: window,
    });
    const companyFailureRate = new Alarm(this, 'CompanyFailureRate', {
      alarmName: `${prefix}-company-failure-rate`,
      alarmDescription:
        'More than 5 % of the companies stored in the last 15 minutes failed (CompaniesFailed / (CompaniesCompleted + CompaniesFailed)). ' +
        "Look at the failed records' `error` in results.jsonl, ProviderThrottled and the agents' errors on the dashboard, " +
        'and the research and storage logs filtered by job_id.',
      metric: failureRate,
      threshold: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const throttleMetrics = Object.fromEntries(functions.map(([, fn], i) => [`t${i}`, fn.metricThrottles({ statistic: Stats.SUM })]));
    const functionThrottles = new Alarm(this, 'FunctionThrottles', {
      alarmName: `${prefix}-lambda-throttles`,
      alarmDescription:
        `Lambda throttled an agent function (${functions.map(([name]) => name).join(', ')}) in the last 5 minutes. ` +
        "Look at the dashboard's Lambda throttles widget for which one, then the account's concurrency limit, reserved " +
        "concurrency, and the Distributed Map's maxConcurrency (-c maxConcurrency).",
      metric: new MathExpression({ label: 'Throttles, all agent functions', expression: sumOf(throttleMetrics), usingMetrics: throttleMetrics }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // The state machine retries throttles with backoff: a few are normal, a steady stream fails companies.
    const providerThrottleThreshold = props.providerThrottleThreshold ?? 10;
    const providerThrottles = new Alarm(this, 'ProviderThrottles', {
      alarmName: `${prefix}-provider-throttles`,
      alarmDescription:
        `Tavily, Gemini or Anthropic answered 429/529 to more than ${providerThrottleThreshold} agent tasks in 5 minutes (ProviderThrottled). ` +
        "Retries absorb a few; look at the research and extraction logs for the provider, the provider's rate limits, " +
        'and lower maxConcurrency if companies start failing.',
      metric: dossierMetric('ProviderThrottled'),
      threshold: providerThrottleThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const coordinatorFailed = new Alarm(this, 'CoordinatorFailed', {
      alarmName: `${prefix}-batch-failed`,
      alarmDescription:
        'A batch execution of the coordinator state machine failed (ExecutionsFailed). The job is FAILED with its error in ' +
        'the jobs table; look at the execution in the Step Functions console and the coordinator log group (ERROR level).',
      metric: coordinator.metricFailed({ statistic: Stats.SUM, period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // Stuck jobs: an execution that outlives its machine's timeout (12 h for a batch) never ends on its own terms.
    const coordinatorTimedOut = new Alarm(this, 'CoordinatorTimedOut', {
      alarmName: `${prefix}-batch-timed-out`,
      alarmDescription:
        'A batch execution ran past the coordinator\'s 12-hour timeout (ExecutionsTimedOut): its job stays RUNNING in the jobs table. ' +
        "Look at the execution's Map Run (which companies never finished), the agents' durations and throttles, and cancel or resubmit the job.",
      metric: coordinator.metricTimedOut({ statistic: Stats.SUM, period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const companyMachineTimedOut = new Alarm(this, 'CompanyMachineTimedOut', {
      alarmName: `${prefix}-company-timed-out`,
      alarmDescription:
        'A single-company execution (EXPRESS) ran past its timeout (ExecutionsTimedOut): that company is neither stored nor counted. ' +
        'Look at the company machine log group and the research agent\'s duration p95; lower max_iterations for single runs, or use a batch.',
      metric: companyMachine.metricTimedOut({ statistic: Stats.SUM, period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const api5xxRate = new Alarm(this, 'Api5xxRate', {
      alarmName: `${prefix}-api-5xx-rate`,
      alarmDescription:
        'More than 1 % of the REST API requests in the last 5 minutes answered 5xx. Look at the API handlers\' logs ' +
        '("request failed" lines), their Lambda errors, and API Gateway\'s execution logs for integration timeouts (29 s).',
      metric: new MathExpression({
        label: 'API 5xx rate (%)',
        expression: '100 * FILL(errors, 0) / requests',
        usingMetrics: { errors: restApi.metricServerError({ statistic: Stats.SUM }), requests: restApi.metricCount({ statistic: Stats.SUM }) },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.alarms = { companyFailureRate, functionThrottles, providerThrottles, coordinatorFailed, coordinatorTimedOut, companyMachineTimedOut, api5xxRate };
    for (const alarm of Object.values(this.alarms)) alarm.addAlarmAction(notify);

    // ── Dashboard ────────────────────────────────────────────────────────────────────
    const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width, height: 6 });
    const perFunction = (metric: (fn: IFunction) => Metric) => functions.map(([name, fn]) => metric(fn).with({ label: name }));

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${prefix}-operations` });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: '# Dossier\nBatches, agents and API. Each alarm\'s description says what to look at.', width: 16, height: 3 }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 8, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph('Companies', [
        dossierMetric('CompaniesSubmitted').with({ label: 'submitted' }),
        dossierMetric('CompaniesCompleted').with({ label: 'completed' }),
        dossierMetric('CompaniesFailed').with({ label: 'failed' }),
      ]),
      new GraphWidget({ title: 'Company failure rate (%, 15 min)', left: [failureRate], leftAnnotations: [{ value: 5, label: 'alarm' }], width: 8, height: 6 }),
      graph('Search queries and provider throttles', [
        dossierMetric('SearchQueries').with({ label: 'search queries' }),
        dossierMetric('ProviderThrottled').with({ label: 'provider throttled (429/529)' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Batch executions (coordinator)', [
        coordinator.metricStarted({ label: 'started', statistic: Stats.SUM }),
        coordinator.metricSucceeded({ label: 'succeeded', statistic: Stats.SUM }),
        coordinator.metricFailed({ label: 'failed', statistic: Stats.SUM }),
        coordinator.metricTimedOut({ label: 'timed out', statistic: Stats.SUM }),
        coordinator.metricAborted({ label: 'aborted (cancelled)', statistic: Stats.SUM }),
      ], 12),
      graph('Single-company executions (company machine)', [
        companyMachine.metricStarted({ label: 'started', statistic: Stats.SUM }),
        companyMachine.metricSucceeded({ label: 'succeeded', statistic: Stats.SUM }),
        companyMachine.metricFailed({ label: 'failed', statistic: Stats.SUM }),
        companyMachine.metricTimedOut({ label: 'timed out', statistic: Stats.SUM }),
      ], 12),
    );
    this.dashboard.addWidgets(
      graph('Lambda errors', perFunction((fn) => fn.metricErrors({ statistic: Stats.SUM }))),
      graph('Lambda throttles', perFunction((fn) => fn.metricThrottles({ statistic: Stats.SUM }))),
      graph('Lambda duration p95', perFunction((fn) => fn.metricDuration({ statistic: Stats.p(95) }))),
    );
    this.dashboard.addWidgets(
      graph('API 4xx / 5xx', [
        restApi.metricClientError({ label: '4xx', statistic: Stats.SUM }),
        restApi.metricServerError({ label: '5xx', statistic: Stats.SUM }),
        restApi.metricCount({ label: 'requests', statistic: Stats.SUM }),
      ], 12),
      graph('API latency', [
        restApi.metricLatency({ label: 'p50', statistic: Stats.p(50) }),
        restApi.metricLatency({ label: 'p95', statistic: Stats.p(95) }),
      ], 12),
    );
  }
}
