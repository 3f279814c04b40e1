/**
 * cdk-nag's AwsSolutions checks over the whole Dossier stack, in each shape its context gives it (Cognito or an
 * external OIDC issuer; with or without an alarm subscription). No finding, error or warning, may be left
 * unacknowledged. Acknowledgements sit next to their resources in lib/, each with its reason; these tests also keep
 * them narrow: none at the stack or app level, no IAM5 for a whole policy, and `*` resources only for actions that
 * have no resource-level permissions.
 *
 * cdk-nag 3 is a policy-validation plugin (Validations.of(app).addPlugins), not an aspect: a finding fails the synth.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Stack, Validations, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { PROJECT_ROOT } from '../../lib/agent-function';
import { DossierStack, type DossierStackProps } from '../../lib/dossier-stack';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: any }> };

interface Checked {
  /** Why the synth failed, if it did: the plugin fails it on any finding. */
  synthError?: unknown;
  report: PolicyValidationPluginReport;
  template: CfnTemplate;
  app: App;
  stack: Stack;
}

/** The app `cdk deploy` runs: cdk.json's context (and `context`), the stack's own name; only the bundling is skipped. */
function appWithStack(context: Record<string, unknown> = {}, props: DossierStackProps = {}): { app: App; stack: DossierStack } {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context } });
  return { app, stack: new DossierStack(app, 'Dossier', props) };
}

/** The app, checked as the plugin checks it during synth. */
function checkedApp(context: Record<string, unknown> = {}, props: DossierStackProps = {}): Checked {
  const { app, stack } = appWithStack(context, props);
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  let synthError: unknown;
  let template: CfnTemplate | undefined;
  try {
    template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } catch (error) {
    synthError = error;
  }
  // The same walk the plugin made, for a readable list of what it found.
  const report = checks.validateScope(app);
  return { synthError, report, template: template ?? ({ Resources: {} } as CfnTemplate), app, stack };
}

function findings(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`));
}

const VARIANTS: [string, () => Checked][] = [
  ['the default stack (its own Cognito user pool)', () => checkedApp()],
  ['with an alarm email subscribed', () => checkedApp({ alarmEmail: 'ops@example.com' })],
  [
    'with an external OIDC issuer instead of Cognito',
    // What bin/app.ts builds from -c oidcIssuer=… -c oidcAudience=… -c oidcTokenUrl=…
    () => checkedApp({}, { externalIssuer: { issuerUrl: 'https://issuer.example.com/', audience: 'dossier', tokenUrl: 'https://issuer.example.com/oauth2/token' } }),
  ],
];

/** Every construct of the tree, the app first. */
function allConstructs(root: IConstruct): IConstruct[] {
  return [root, ...root.node.children.flatMap(allConstructs)];
}

/** The rule ids acknowledged on a construct itself. */
function acknowledgedOn(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
    .map((id) => id.replace(/^annotation::/i, ''));
}

/** The same checks with every acknowledgement ignored: what would be found without them. */
class EveryFinding extends AwsSolutionsChecks {}
// isAcknowledged is private to NagPack; overriding it here changes this subclass only.
(EveryFinding.prototype as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;

/** Actions that accept no resource but `*`: what X-Ray tracing and CloudWatch Logs delivery (state machine logging) need. */
const RESOURCELESS_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

describe.each(VARIANTS)('cdk-nag AwsSolutions, %s', (_name, build) => {
  let checked: Checked;
  beforeAll(() => {
    checked = build();
  });

  it('finds nothing unacknowledged, neither errors nor warnings', () => {
    expect(findings(checked.report), 'unacknowledged AwsSolutions findings').toEqual([]);
    expect(checked.synthError).toBeUndefined();
  });

  it('acknowledges nothing at the app or stack level, and no IAM5 finding without naming its wildcard', () => {
    expect(acknowledgedOn(checked.app)).toEqual([]);
    expect(acknowledgedOn(checked.stack)).toEqual([]);
    for (const construct of allConstructs(checked.app)) {
      expect(acknowledgedOn(construct).filter((id) => id === 'AwsSolutions-IAM5'), construct.node.path).toEqual([]);
    }
  });

  it('acknowledges only what is found: every acknowledgement answers a finding under its construct', () => {
    const everyFinding = new EveryFinding(checked.app).validateScope(checked.app).violations;
    const acknowledgements = allConstructs(checked.app).flatMap((construct) => acknowledgedOn(construct).map((id) => ({ id, path: construct.node.path })));
    expect(acknowledgements.length).toBeGreaterThan(0);
    const stale = acknowledgements.filter(
      ({ id, path }) =>
        !everyFinding.some((v) => v.ruleName === id && v.violatingResources.some((r) => r.constructPath === path || !!r.constructPath?.startsWith(`${path}/`))),
    );
    expect(stale).toEqual([]);
  });

  it('grants on every resource (`*`) only the actions that take no other resource', () => {
    const statements = Object.values(checked.template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements.length).toBeGreaterThan(0);
    const onEverything = statements.filter((s) => s.Effect === 'Allow' && [s.Resource].flat().includes('*'));
    expect(onEverything.length).toBeGreaterThan(0);
    const actions = onEverything.flatMap((s) => [s.Action].flat());
    expect(actions.filter((action) => !RESOURCELESS_ACTIONS.has(action))).toEqual([]);
  });
});

describe('the check itself', () => {
  it('fails the synth and names the finding when a resource breaks a rule', () => {
    const { app, stack } = appWithStack();
    // A topic that takes plain-HTTP publishers (AwsSolutions-SNS3), unacknowledged.
    new Topic(stack, 'UncheckedTopic');
    const checks = new AwsSolutionsChecks(app);
    Validations.of(app).addPlugins(checks);
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
    expect(findings(checks.validateScope(app))).toEqual([expect.stringMatching(/^error AwsSolutions-SNS3 at Dossier\/UncheckedTopic\/Resource: /)]);
  });
});
