import { describe, expect, it } from 'vitest';
import { batchRequestSchema, describeZodError, type ExtractionSchema } from '../../lambdas/core/contracts';
import { recordProblems, schemaProblem } from '../../lambdas/core/json-schema';
import { errorNameForStatus, ProviderError } from '../../lambdas/providers/provider-error';
import { classifyTavilyError } from '../../lambdas/providers/tavily-search';

const extraction_schema = { type: 'object', properties: { headquarters: { type: 'string' } } };

/** The readable message a rejected request gets, or 'ok'. */
function problem(body: unknown): string {
  const parsed = batchRequestSchema.safeParse(body);
  return parsed.success ? 'ok' : describeZodError(parsed.error);
}

describe('batchRequestSchema', () => {
  it('fills in the defaults', () => {
    const parsed = batchRequestSchema.parse({ companies: ['Northwind Robotics'], extraction_schema });
    expect(parsed).toMatchObject({ max_iterations: 2, max_queries: 3, search_provider: 'tavily' });
  });

  it('trims company names', () => {
    expect(batchRequestSchema.parse({ companies: ['  Acme  '], extraction_schema }).companies).toEqual(['Acme']);
  });

  it('keeps extra JSON Schema keywords of the extraction schema', () => {
    const withExtras = { ...extraction_schema, required: ['headquarters'], additionalProperties: false };
    expect(batchRequestSchema.parse({ companies: ['Acme'], extraction_schema: withExtras }).extraction_schema).toEqual(withExtras);
  });

  it.each([
    ['no companies', { companies: [], extraction_schema }, 'companies: companies must list at least one company'],
    [
      'more than 10000 companies',
      { companies: Array.from({ length: 10_001 }, (_, i) => `Company ${i}`), extraction_schema },
      'companies: companies may list at most 10000 companies',
    ],
    ['a blank company name', { companies: ['Acme', '   '], extraction_schema }, 'companies.1: company name must not be empty'],
    [
      'a schema without properties',
      { companies: ['Acme'], extraction_schema: { type: 'object', properties: {} } },
      'extraction_schema.properties: extraction_schema.properties must name at least one field',
    ],
    [
      'a schema that is not an object',
      { companies: ['Acme'], extraction_schema: { type: 'array', properties: { a: {} } } },
      'extraction_schema.type: extraction_schema.type must be "object"',
    ],
    ['max_iterations 0', { companies: ['Acme'], extraction_schema, max_iterations: 0 }, 'max_iterations: '],
    ['an unknown search provider', { companies: ['Acme'], extraction_schema, search_provider: 'bing' }, 'search_provider: '],
  ])('rejects %s with a message naming the field', (_case, body, message) => {
    expect(problem(body)).toContain(message);
  });

  it('reports a schema with no properties key at all', () => {
    expect(problem({ companies: ['Acme'], extraction_schema: { type: 'object' } })).toMatch(/^extraction_schema\.properties: /);
  });

  it('lists every problem, separated, and names the body when it is not an object', () => {
    const message = problem({ companies: [], extraction_schema, max_queries: 11 });
    expect(message.split('; ')).toHaveLength(2);
    expect(message).toMatch(/max_queries: /);
    expect(problem('just text')).toMatch(/^\(body\): /);
  });
});

describe('schemaProblem', () => {
  it('accepts a usable schema', () => {
    expect(schemaProblem({ type: 'object', properties: { founded: { type: 'integer', minimum: 1800 } } })).toBeUndefined();
  });

  it('explains a schema that is not valid JSON Schema', () => {
    const broken = { type: 'object', properties: { a: { type: 'nonsense' } } } as ExtractionSchema;
    expect(schemaProblem(broken)).toMatch(/^extraction_schema is not a valid JSON Schema: .*properties\/a\/type/);
  });
});

describe('recordProblems', () => {
  const schema: ExtractionSchema = {
    type: 'object',
    properties: { name: { type: 'string' }, employees: { type: 'integer', minimum: 1 } },
    required: ['name', 'employees'],
  };

  it('lets a partial record lack required fields, but not a full one', () => {
    expect(recordProblems(schema, { employees: 12 }, { partial: true })).toEqual([]);
    expect(recordProblems(schema, { employees: 12 }, { partial: false })).toEqual(["(record) must have required property 'name'"]);
  });

  it('checks the values that are present either way', () => {
    expect(recordProblems(schema, { employees: 0 }, { partial: true })).toEqual(['/employees must be >= 1']);
    expect(recordProblems(schema, { name: 'Acme', employees: 'many' }, { partial: false })).toEqual(['/employees must be integer']);
  });

  it('passes a complete, valid record', () => {
    expect(recordProblems(schema, { name: 'Acme', employees: 12 }, { partial: false })).toEqual([]);
  });
});

describe('classifyTavilyError', () => {
  it.each([
    ['429 Error: {"detail":"slow down"}', 'ProviderThrottled'],
    ['Rate limit exceeded', 'ProviderThrottled'],
    ['Too Many Requests', 'ProviderThrottled'],
    ['Unauthorized: missing or invalid API key.', 'ProviderRejected'],
    ['403 Error: {}', 'ProviderRejected'],
    ['400 Error: {"detail":{"error":"query is too long"}}', 'ProviderRejected'],
    ["432 Error: This request exceeds your plan's set usage limit.", 'ProviderRejected'],
    ['500 Error: {}', 'ProviderUnavailable'],
    ['Request timed out after 20 seconds.', 'ProviderUnavailable'],
    ['Request timed out after 400 seconds.', 'ProviderUnavailable'],
    ['getaddrinfo ENOTFOUND api.tavily.com', 'ProviderUnavailable'],
  ] as const)('classifies %j as %s', (message, expected) => {
    expect(classifyTavilyError(message)).toBe(expected);
  });

  it('does not mistake a longer number for a status code', () => {
    expect(classifyTavilyError('503 Error: upstream 4290 ms')).toBe('ProviderUnavailable');
  });
});

describe('errorNameForStatus', () => {
  it.each([
    [429, 'ProviderThrottled'],
    [500, 'ProviderUnavailable'],
    [503, 'ProviderUnavailable'],
    [408, 'ProviderUnavailable'],
    [undefined, 'ProviderUnavailable'],
    [400, 'ProviderRejected'],
    [401, 'ProviderRejected'],
    [404, 'ProviderRejected'],
  ] as const)('maps %s to %s', (status, expected) => {
    expect(errorNameForStatus(status)).toBe(expected);
  });

  it('makes only rejected requests non-retryable', () => {
    expect(new ProviderError(errorNameForStatus(429), 'tavily', 'x').retryable).toBe(true);
    expect(new ProviderError(errorNameForStatus(503), 'tavily', 'x').retryable).toBe(true);
    expect(new ProviderError(errorNameForStatus(401), 'tavily', 'x').retryable).toBe(false);
  });

  it("names the error so a state machine Retry can match it, and says which provider failed", () => {
    const error = new ProviderError('ProviderThrottled', 'anthropic', 'overloaded');
    expect(error.name).toBe('ProviderThrottled');
    expect(error.message).toBe('anthropic: overloaded');
  });
});
