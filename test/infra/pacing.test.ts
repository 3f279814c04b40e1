/** Provider pacing in the template: the rate-limits table, and the limits the agents that call providers are given. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DossierStack } from '../../lib/dossier-stack';

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new DossierStack(app, 'PacingTest'));
}

let template: Template;
beforeAll(() => {
  template = synth();
});

const tableId = (t: Template, key: string) => {
  const ids = Object.keys(t.findResources('AWS::DynamoDB::Table', { Properties: { KeySchema: [{ AttributeName: key, KeyType: 'HASH' }] } }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

function environmentOf(t: Template, handler: string): Record<string, unknown> {
  const functions = Object.values(t.findResources('AWS::Lambda::Function', { Metadata: { 'dossier:entry': `lambdas/handlers/${handler}.ts` } }));
  expect(functions, handler).toHaveLength(1);
  return functions[0]!.Properties.Environment?.Variables ?? {};
}

describe('the rate-limits table', () => {
  it('is keyed by limit_key, on demand, destroyable, with items expiring on expires_at', () => {
    tableId(template, 'limit_key');
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'limit_key', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      }),
    });
  });

  it('is written by the three agents that call providers, and only by them', () => {
    const tableArn = JSON.stringify({ 'Fn::GetAtt': [tableId(template, 'limit_key'), 'Arn'] });
    const writers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      policy.Properties.PolicyDocument.Statement.some(
        (s: any) => [s.Action].flat().includes('dynamodb:UpdateItem') && [s.Resource].flat().some((r: unknown) => JSON.stringify(r) === tableArn),
      ),
    );
    expect(writers.map(([id]) => id.replace(/ServiceRoleDefaultPolicy.*/, '')).sort()).toEqual(['AgentsExtraction', 'AgentsReflection', 'AgentsResearch']);
  });
});

describe('the provider limits', () => {
  it('default to a production Tavily key, Anthropic Tier 2 and Gemini Tier 1, in every agent that calls providers', () => {
    const pacing = { Ref: tableId(template, 'limit_key') };
    const llm = { LLM_REQUESTS_PER_MINUTE: '1000', LLM_INPUT_TOKENS_PER_MINUTE: '450000', LLM_OUTPUT_TOKENS_PER_MINUTE: '90000' };
    expect(environmentOf(template, 'research')).toMatchObject({ PACING_TABLE_NAME: pacing, SEARCH_REQUESTS_PER_MINUTE: '1000', GEMINI_REQUESTS_PER_MINUTE: '1000', ...llm });
    expect(environmentOf(template, 'extraction')).toMatchObject({ PACING_TABLE_NAME: pacing, ...llm });
    // Reflection's model calls (the judgements rules cannot make) share the one Anthropic budget.
    expect(environmentOf(template, 'reflection')).toMatchObject({ PACING_TABLE_NAME: pacing, ...llm });
    expect(environmentOf(template, 'store-result').PACING_TABLE_NAME).toBeUndefined();
  });

  it('journal the research steps’ searches in the search cache table', () => {
    expect(environmentOf(template, 'research').SEARCH_JOURNAL_TABLE_NAME).toEqual({ Ref: tableId(template, 'cache_key') });
  });

  it('come from the context per deployment, and refuse what is not a positive whole number', () => {
    const custom = synth({ searchRequestsPerMinute: '100', llmRequestsPerMinute: 50, llmInputTokensPerMinute: 30_000, llmOutputTokensPerMinute: 8_000, geminiRequestsPerMinute: 150 });
    expect(environmentOf(custom, 'research')).toMatchObject({
      SEARCH_REQUESTS_PER_MINUTE: '100',
      LLM_REQUESTS_PER_MINUTE: '50',
      LLM_INPUT_TOKENS_PER_MINUTE: '30000',
      LLM_OUTPUT_TOKENS_PER_MINUTE: '8000',
      GEMINI_REQUESTS_PER_MINUTE: '150',
    });
    expect(environmentOf(custom, 'extraction')).toMatchObject({ LLM_REQUESTS_PER_MINUTE: '50' });
    expect(() => synth({ searchRequestsPerMinute: 'fast' })).toThrow(/searchRequestsPerMinute must be a positive whole number/);
  });
});
