/** The quotas in the template: their table, and the limits every API route function is given. */
import { beforeAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DossierStack } from '../../lib/dossier-stack';

const ROUTES = ['submit-batch', 'research-single', 'job-status', 'list-jobs', 'job-results', 'cancel-job', 'redrive-job', 'webhook-secret'];
// The routes that start research spend units: a redrive runs companies again.
const RESEARCH_ROUTES = ['submit-batch', 'research-single', 'redrive-job'];
const A2A_RESEARCH_DOORS = ['research', 'coordinator-agent'];

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new DossierStack(app, 'QuotasTest'));
}

let template: Template;
beforeAll(() => {
  template = synth();
});

const quotasTableId = (t: Template) => {
  const ids = Object.keys(t.findResources('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: 'quota_key', KeyType: 'HASH' }] } }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

function environmentOf(t: Template, handler: string): Record<string, unknown> {
  const functions = Object.values(t.findResources('AWS::Lambda::Function', { Metadata: { 'dossier:entry': `lambdas/handlers/${handler}.ts` } }));
  expect(functions, handler).toHaveLength(1);
  return functions[0]!.Properties.Environment?.Variables ?? {};
}

describe('the quotas table', () => {
  it('is keyed by quota_key, on demand, destroyable, with items expiring on expires_at', () => {
    const id = quotasTableId(template);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'quota_key', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      }),
    });
    expect(id).toMatch(/QuotasTable/);
  });
});

describe('the API route functions', () => {
  it('all count requests in the quotas table, 100 a minute by default; the research routes also 200,000 units a day', () => {
    const table = { Ref: quotasTableId(template) };
    for (const route of ROUTES) {
      const env = environmentOf(template, route);
      expect(env, route).toMatchObject({ QUOTAS_TABLE_NAME: table, RATE_LIMIT_PER_MINUTE: '100' });
      expect(env.DAILY_RESEARCH_UNITS, route).toBe(RESEARCH_ROUTES.includes(route) ? '200000' : undefined);
    }
    expect(environmentOf(template, 'api-authorizer').QUOTAS_TABLE_NAME).toBeUndefined();
  });

  it('may write the quotas table', () => {
    const tableArn = { 'Fn::GetAtt': [quotasTableId(template), 'Arn'] };
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const writers = policies.filter((policy) =>
      policy.Properties.PolicyDocument.Statement.some(
        (s: any) => [s.Action].flat().includes('dynamodb:UpdateItem') && [s.Resource].flat().some((r: unknown) => JSON.stringify(r) === JSON.stringify(tableArn)),
      ),
    );
    // The API's routes, and the two A2A agents that start research (the research agent, the coordinator).
    expect(writers).toHaveLength(ROUTES.length + A2A_RESEARCH_DOORS.length);
  });

  it('charge research started through A2A to the same daily units', () => {
    for (const door of A2A_RESEARCH_DOORS) {
      expect(environmentOf(template, door), door).toMatchObject({ QUOTAS_TABLE_NAME: { Ref: quotasTableId(template) }, DAILY_RESEARCH_UNITS: '200000' });
    }
    expect(environmentOf(synth({ dailyResearchUnits: 5000 }), 'coordinator-agent')).toMatchObject({ DAILY_RESEARCH_UNITS: '5000' });
    // Extraction and reflection spend tokens, not research units.
    expect(environmentOf(template, 'extraction').DAILY_RESEARCH_UNITS).toBeUndefined();
  });

  it('take their limits from the context', () => {
    const custom = synth({ rateLimitPerMinute: '30', dailyResearchUnits: 5000 });
    expect(environmentOf(custom, 'list-jobs')).toMatchObject({ RATE_LIMIT_PER_MINUTE: '30' });
    expect(environmentOf(custom, 'submit-batch')).toMatchObject({ RATE_LIMIT_PER_MINUTE: '30', DAILY_RESEARCH_UNITS: '5000' });
    expect(() => synth({ dailyResearchUnits: 'lots' })).toThrow(/dailyResearchUnits must be a positive whole number/);
  });
});
