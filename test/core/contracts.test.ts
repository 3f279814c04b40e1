import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  batchRequestSchema,
  describeZodError,
  extractionInputSchema,
  reflectionInputSchema,
  researchInputSchema,
  singleResearchRequestSchema,
  type ExtractionSchema,
} from '../../lambdas/core/contracts';
import { recordProblems, schemaProblem } from '../../lambdas/core/json-schema';
import { errorNameForStatus, ProviderError, retryAfterMs } from '../../lambdas/providers/provider-error';

const extraction_schema = { type: 'object', properties: { headquarters: { type: 'string' } } };

/** The readable message a rejected request gets, or 'ok'. */
function problem(body: unknown, schema: z.ZodType = batchRequestSchema): string {
  const parsed = schema.safeParse(body);
  return parsed.success ? 'ok' : describeZodError(parsed.error);
}

/** The extraction schema a batch request comes out with. */
const parsedSchema = (extraction_schema: unknown) => batchRequestSchema.parse({ companies: ['Acme'], extraction_schema }).extraction_schema;

describe('batchRequestSchema', () => {
  it('fills in the defaults: the standard tier, its budgets left to the tier, no spending cap', () => {
    const parsed = batchRequestSchema.parse({ companies: ['Northwind Robotics'], extraction_schema });
    expect(parsed).toMatchObject({ tier: 'standard', search_provider: 'tavily' });
    expect(parsed).not.toHaveProperty('max_iterations');
    expect(parsed).not.toHaveProperty('max_queries');
    expect(parsed).not.toHaveProperty('max_cost_usd');
  });

  it('takes a tier and a spending cap, and refuses others', () => {
    expect(problem({ companies: ['Acme'], extraction_schema, tier: 'deep', max_cost_usd: 2.5 })).toBe('ok');
    expect(problem({ companies: ['Acme'], extraction_schema, tier: 'premium' })).toMatch(/^tier: /);
    expect(problem({ companies: ['Acme'], extraction_schema, max_cost_usd: 0 })).toMatch(/^max_cost_usd: /);
    expect(problem({ companies: ['Acme'], extraction_schema, max_cost_usd: -1 })).toMatch(/^max_cost_usd: /);
  });

  it('trims company names', () => {
    expect(batchRequestSchema.parse({ companies: ['  Acme  '], extraction_schema }).companies).toEqual(['Acme']);
  });

  it('takes a company as a name or as {company_name, domain}, the domain cut to its host', () => {
    const parsed = batchRequestSchema.parse({
      companies: ['Acme', { company_name: ' Mercury ', domain: 'https://www.Mercury-Freight.example/about' }, { company_name: 'Globex' }],
      extraction_schema,
    });
    expect(parsed.companies).toEqual(['Acme', { company_name: 'Mercury', domain: 'mercury-freight.example' }, { company_name: 'Globex' }]);
    expect(singleResearchRequestSchema.parse({ company_name: 'Mercury', domain: 'mercury-freight.example', extraction_schema }).domain).toBe('mercury-freight.example');
  });

  it('refuses a domain that is not a host name, and a misspelt key of a company, saying which', () => {
    expect(problem({ companies: [{ company_name: 'Mercury', domain: 'not a domain' }], extraction_schema })).toBe(
      'companies.0.domain: domain must be a host name like "example.com", not "not a domain"',
    );
    expect(problem({ companies: [{ company_name: 'Mercury', domain: 'http://169.254.169.254/latest' }], extraction_schema })).toBe(
      'companies.0.domain: domain must be a host name like "example.com", not an IP address ("http://169.254.169.254/latest")',
    );
    expect(problem({ companies: [{ company_name: 'Mercury', domian: 'x.example' }], extraction_schema })).toBe(
      'companies.0: unknown key "domian"; the known keys are company_name, domain',
    );
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

describe('unknown keys', () => {
  it('refuses a misspelt option instead of quietly using its default', () => {
    expect(problem({ companies: ['Acme'], extraction_schema, max_iteration: 4 })).toBe(
      '(body): unknown key "max_iteration"; the known keys are companies, extraction_schema, tier, max_iterations, max_queries, search_provider, callback_url, max_cost_usd',
    );
    expect(problem({ company_name: 'Acme', extraction_schema, maxQueries: 2, provider: 'tavily' }, singleResearchRequestSchema)).toBe(
      '(body): unknown keys "maxQueries", "provider"; the known keys are extraction_schema, tier, max_iterations, max_queries, search_provider, company_name, domain',
    );
  });

  it("refuses them in the step agents' inputs too", () => {
    expect(problem({ company_name: 'Acme', extraction_schema, max_query: 2 }, researchInputSchema)).toMatch(/^\(body\): unknown key "max_query"; /);
    expect(problem({ research_notes: '- CEO: Ada', extraction_schema, note: 'x' }, extractionInputSchema)).toMatch(/unknown key "note"/);
    expect(problem({ company_name: 'Acme', extraction_schema, extracted_data: {}, data: {} }, reflectionInputSchema)).toMatch(/unknown key "data"/);
  });

  it("leaves the user's extraction schema open: JSON Schema has keywords of every kind", () => {
    expect(problem({ companies: ['Acme'], extraction_schema: { ...extraction_schema, title: 'Profile', 'x-owner': 'sales' } })).toBe('ok');
  });
});

describe('extraction_schema.required', () => {
  it('must name fields of properties: completeness counts only those', () => {
    expect(problem({ companies: ['Acme'], extraction_schema: { ...extraction_schema, required: ['headquarters', 'ceo'] } })).toBe(
      'extraction_schema.required: extraction_schema.required names "ceo", which is not in extraction_schema.properties',
    );
    expect(problem({ companies: ['Acme'], extraction_schema: { ...extraction_schema, required: ['ceo', 'revenue'] } })).toBe(
      'extraction_schema.required: extraction_schema.required names "ceo", "revenue", which are not in extraction_schema.properties',
    );
  });
});

describe('extraction_schema references', () => {
  // What Pydantic v2's Company.model_json_schema() writes for a nested model, a list of them and an optional enum.
  const pydantic = {
    $defs: {
      Address: {
        properties: {
          city: { title: 'City', type: 'string' },
          country: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Country' },
        },
        required: ['city'],
        title: 'Address',
        type: 'object',
      },
      Industry: { enum: ['Industrial robotics', 'Payments'], title: 'Industry', type: 'string' },
    },
    properties: {
      headquarters: { $ref: '#/$defs/Address' },
      offices: { default: [], items: { $ref: '#/$defs/Address' }, title: 'Offices', type: 'array' },
      industry: { anyOf: [{ $ref: '#/$defs/Industry' }, { type: 'null' }], default: null },
      ceo: { description: 'Chief executive', title: 'Ceo', type: 'string' },
    },
    required: ['headquarters', 'ceo'],
    title: 'Company',
    type: 'object',
  };

  it("inlines Pydantic's $defs wherever they are used, and drops them", () => {
    const { Address, Industry } = pydantic.$defs;
    expect(parsedSchema(pydantic)).toEqual({
      properties: {
        headquarters: Address,
        offices: { default: [], items: Address, title: 'Offices', type: 'array' },
        industry: { anyOf: [Industry, { type: 'null' }], default: null },
        ceo: pydantic.properties.ceo,
      },
      required: ['headquarters', 'ceo'],
      title: 'Company',
      type: 'object',
    });
  });

  it('follows #/definitions (Pydantic v1) and references inside definitions', () => {
    const schema = parsedSchema({
      type: 'object',
      properties: { parent: { $ref: '#/definitions/Holding' } },
      definitions: { Holding: { type: 'object', properties: { hq: { $ref: '#/definitions/City' } } }, City: { type: 'string' } },
    });
    expect(schema).toEqual({ type: 'object', properties: { parent: { type: 'object', properties: { hq: { type: 'string' } } } } });
  });

  it('keeps the keywords written next to a $ref: descriptions merged, rules added with allOf', () => {
    const schema = parsedSchema({
      type: 'object',
      properties: {
        hq: { $ref: '#/$defs/City', description: 'Where the head office is' },
        short_hq: { $ref: '#/$defs/City', maxLength: 20 },
      },
      $defs: { City: { type: 'string', description: 'A city' } },
    });
    expect(schema.properties).toEqual({
      hq: { type: 'string', description: 'Where the head office is' },
      short_hq: { maxLength: 20, allOf: [{ type: 'string', description: 'A city' }] },
    });
  });

  it('leaves a property named "$ref" and "$ref" inside enum values alone', () => {
    const schema = { type: 'object', properties: { $ref: { type: 'string' }, kind: { enum: [{ $ref: 'not a reference' }] } } };
    expect(parsedSchema(schema)).toEqual(schema);
  });

  it.each([
    [
      'a recursive reference',
      { type: 'object', properties: { org: { $ref: '#/$defs/Unit' } }, $defs: { Unit: { type: 'object', properties: { parts: { type: 'array', items: { $ref: '#/$defs/Unit' } } } } } },
      'extraction_schema.$defs.Unit.properties.parts.items.$ref: "#/$defs/Unit" refers back to itself (#/$defs/Unit → #/$defs/Unit): a recursive schema cannot be inlined into fixed fields',
    ],
    [
      'a cycle through two definitions',
      { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { properties: { b: { $ref: '#/$defs/B' } } }, B: { properties: { a: { $ref: '#/$defs/A' } } } } },
      'extraction_schema.$defs.B.properties.a.$ref: "#/$defs/A" refers back to itself (#/$defs/A → #/$defs/B → #/$defs/A): a recursive schema cannot be inlined into fixed fields',
    ],
    [
      'a reference to another document',
      { type: 'object', properties: { hq: { $ref: 'https://schemas.example/address.json' } } },
      'extraction_schema.properties.hq.$ref: "https://schemas.example/address.json" is not a local reference: only references into extraction_schema itself, like "#/$defs/Address", can be resolved',
    ],
    [
      'a reference to a definition that does not exist',
      { type: 'object', properties: { hq: { $ref: '#/$defs/Adress' } }, $defs: { Address: { type: 'string' } } },
      'extraction_schema.properties.hq.$ref: "#/$defs/Adress" points to nothing in extraction_schema',
    ],
    [
      'a named anchor',
      { type: 'object', properties: { hq: { $ref: '#address' } } },
      'extraction_schema.properties.hq.$ref: "#address" is not a JSON pointer: only references like "#/$defs/Address" can be resolved',
    ],
  ])('refuses %s, saying which $ref and why', (_case, extraction_schema, message) => {
    expect(problem({ companies: ['Acme'], extraction_schema })).toBe(message);
  });

  it('measures the schema with its references inlined, and stops a definition that doubles at every level', () => {
    const $defs: Record<string, object> = { L0: { type: 'string' } };
    for (let i = 1; i <= 40; i++) $defs[`L${i}`] = { type: 'object', properties: { a: { $ref: `#/$defs/L${i - 1}` }, b: { $ref: `#/$defs/L${i - 1}` } } };
    const started = Date.now();
    const parsed = batchRequestSchema.safeParse({ companies: ['Acme'], extraction_schema: { type: 'object', properties: { x: { $ref: '#/$defs/L40' } }, $defs } });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        code: 'too_big',
        path: ['extraction_schema'],
        message: 'extraction_schema must be at most 32768 bytes with its $refs inlined; it is over 327680',
      }),
    ]);
  });

  it('refuses a schema over 32 KB without references too', () => {
    const big = { type: 'object', properties: { notes: { type: 'string', description: 'x'.repeat(33_000) } } };
    expect(problem({ companies: ['Acme'], extraction_schema: big })).toMatch(/^extraction_schema: extraction_schema must be at most 32768 bytes; it is 330\d\d$/);
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

describe('retryAfterMs', () => {
  const headers = (values: Record<string, string>) => new Headers(values);
  it.each([
    [{ 'retry-after': '7' }, 7_000],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after-ms': '1500', 'retry-after': '2' }, 1_500],
    [{ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, 30_000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ] as const)('reads %j as %s ms', (values, expected) => {
    expect(retryAfterMs(headers(values), Date.parse('2026-01-01T00:00:00Z'))).toBe(expected);
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
