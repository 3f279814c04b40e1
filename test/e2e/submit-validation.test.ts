/**
 * What POST /research/batch refuses at the door, because it would only fail later (or be silently ignored), and a
 * Pydantic-style schema with $defs, which it accepts: inlined once, researched end to end on the local runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { jobKeys } from '../../lambdas/core/job-layout';
import { recordProblems } from '../../lambdas/core/json-schema';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

// What Pydantic's model_json_schema() writes for a model with a nested model and an optional enum.
const Address = {
  title: 'Address',
  type: 'object',
  properties: { city: { title: 'City', type: 'string' }, country: { title: 'Country', type: 'string' } },
  required: ['city'],
};
const Industry = { title: 'Industry', type: 'string', enum: ['Industrial robotics', 'Payments', 'Diagnostics'] };
const pydanticSchema = {
  title: 'Company',
  type: 'object',
  properties: {
    headquarters: { $ref: '#/$defs/Address' },
    industry: { anyOf: [{ $ref: '#/$defs/Industry' }, { type: 'null' }], default: null },
    ceo: { title: 'Ceo', type: 'string', description: 'Name of the chief executive officer (CEO)' },
  },
  required: ['industry', 'ceo'],
  $defs: { Address, Industry },
};

const simpleSchema = { type: 'object', properties: { ceo: { type: 'string' } } };

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
});

afterAll(async () => {
  await runtime?.stop();
});

describe('POST /research/batch refuses at the door', () => {
  it.each([
    [
      'a recursive $ref',
      {
        companies: ['Brightgull Robotics'],
        extraction_schema: {
          type: 'object',
          properties: { org: { $ref: '#/$defs/Unit' } },
          $defs: { Unit: { type: 'object', properties: { parts: { type: 'array', items: { $ref: '#/$defs/Unit' } } } } },
        },
      },
      'extraction_schema.$defs.Unit.properties.parts.items.$ref: "#/$defs/Unit" refers back to itself (#/$defs/Unit → #/$defs/Unit): a recursive schema cannot be inlined into fixed fields',
    ],
    [
      'a $ref to another document',
      { companies: ['Brightgull Robotics'], extraction_schema: { type: 'object', properties: { hq: { $ref: 'https://schemas.example/address.json' } } } },
      'extraction_schema.properties.hq.$ref: "https://schemas.example/address.json" is not a local reference: only references into extraction_schema itself, like "#/$defs/Address", can be resolved',
    ],
    [
      'a required field that is not in properties',
      { companies: ['Brightgull Robotics'], extraction_schema: { ...simpleSchema, required: ['ceo', 'headquarters'] } },
      'extraction_schema.required: extraction_schema.required names "headquarters", which is not in extraction_schema.properties',
    ],
    [
      'a misspelt option',
      { companies: ['Brightgull Robotics'], extraction_schema: simpleSchema, max_iteration: 3 },
      '(body): unknown key "max_iteration"; the known keys are companies, extraction_schema, tier, max_iterations, max_queries, search_provider, callback_url, max_cost_usd',
    ],
  ])('%s: 400 naming the problem, and no job', async (_case, body, message) => {
    const before = await runtime.results.listKeys('jobs/');
    const response = await runtime.api.submitBatch(body);
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toBe(message);
    expect(await runtime.results.listKeys('jobs/')).toEqual(before);
  });

  it('a schema that grows past 32 KB once its references are inlined: 413', async () => {
    const $defs: Record<string, object> = { L0: { type: 'string', description: 'a level of a deep tree' } };
    for (let i = 1; i <= 30; i++) $defs[`L${i}`] = { type: 'object', properties: { a: { $ref: `#/$defs/L${i - 1}` }, b: { $ref: `#/$defs/L${i - 1}` } } };
    const response = await runtime.api.submitBatch({
      companies: ['Brightgull Robotics'],
      extraction_schema: { type: 'object', properties: { tree: { $ref: '#/$defs/L30' } }, $defs },
    });
    expect(response.statusCode).toBe(413);
    expect(response.body.message).toBe('extraction_schema must be at most 32768 bytes with its $refs inlined; it is over 327680');
  });
});

describe('a Pydantic-style schema with $defs', () => {
  let jobId: string;
  let executionInput: { extraction_schema: ExtractionSchema };
  let result: CompanyResult;

  beforeAll(async () => {
    const submitted = await runtime.api.submitBatch({ companies: ['Brightgull Robotics'], extraction_schema: pydanticSchema, max_iterations: 1 });
    expect(submitted.statusCode, JSON.stringify(submitted.body)).toBe(202);
    jobId = submitted.body.job_id;
    const execution = await runtime.waitForJob(jobId);
    expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
    executionInput = JSON.parse(execution.input);
    [result] = (await runtime.results.getText(jobKeys.jsonl(jobId)))!.trim().split('\n').map((line) => JSON.parse(line));
  });

  it('is accepted, and the job runs with the references inlined', () => {
    const schema = executionInput.extraction_schema;
    expect(JSON.stringify(schema)).not.toMatch(/\$ref|\$defs/);
    expect(schema.properties.headquarters).toEqual(Address);
    expect(schema.properties.industry).toEqual({ anyOf: [Industry, { type: 'null' }], default: null });
  });

  it('researches the company without failing it: the fields reached through $refs are filled and valid', async () => {
    expect((await runtime.api.getJob(jobId)).body).toMatchObject({ status: 'COMPLETED', progress: { total: 1, completed: 1, failed: 0 } });
    expect(result).toMatchObject({ company_name: 'Brightgull Robotics', status: 'completed', complete: true });
    expect(result.failure_reason).toBeUndefined();
    // The corpus says "Industry: Industrial robotics": a value of the enum the field's $ref points to.
    // (Headquarters is left out: the stand-in model fills only scalars and lists from `- Label: value` lines, never objects.)
    expect(result.data).toMatchObject({ industry: 'Industrial robotics', ceo: 'Mette Langgaard' });
    expect(recordProblems(executionInput.extraction_schema, result.data, { partial: false })).toEqual([]);
    // The schema as the user wrote it, $defs and all, accepts the record too.
    expect(recordProblems(pydanticSchema as ExtractionSchema, result.data, { partial: false })).toEqual([]);
  });
});
