import { describe, expect, it } from 'vitest';
import { extractionInputSchema, reflectionInputSchema } from '../../lambdas/core/contracts';
import { reflect } from '../../lambdas/core/reflection';
import { extract } from '../../lambdas/core/extraction';
import { fieldsOf, inlineLocalRefs, jsonByteLength, recordProblems } from '../../lambdas/core/json-schema';
import { fakeModel, fieldAnswer } from '../support/fake-model';

// A Pydantic-style schema: a nested model and an enum, both in $defs.
const company = {
  type: 'object',
  title: 'Company',
  properties: {
    headquarters: { $ref: '#/$defs/Address', description: 'Head office' },
    industry: { anyOf: [{ $ref: '#/$defs/Industry' }, { type: 'null' }], default: null },
    ceo: { type: 'string', title: 'Ceo' },
  },
  required: ['headquarters', 'ceo'],
  $defs: {
    Address: { type: 'object', title: 'Address', properties: { city: { type: 'string' }, country: { type: 'string' } }, required: ['city'] },
    Industry: { type: 'string', title: 'Industry', enum: ['Industrial robotics', 'Payments'] },
  },
};

const ABOUT = 'https://brightgull-robotics.example/about';


describe('a schema with $defs, through extraction and reflection', () => {
  // Parsed as the extraction and reflection agents parse their input: the contract inlines the references.
  const input = extractionInputSchema.parse({
    company_name: 'Brightgull Robotics',
    extraction_schema: company,
    research_notes: `- Headquarters: Aarhus, Denmark [1]\n- Industry: Robotics [1]\n- CEO: Mette Langgaard [1]\n\n[1] ${ABOUT}`,
    sources: [{ id: 1, url: ABOUT, title: 'About', content: '- Headquarters: Aarhus, Denmark\n- Industry: Robotics\n- CEO: Mette Langgaard' }],
  });

  it("gives the model the nested model's own schema for the field, not a pointer it cannot follow", async () => {
    const { model, requests } = fakeModel({ fields: {} });
    await extract(input, model);
    const answer = JSON.stringify(requests[0]!.inputSchema);
    expect(answer).not.toContain('$ref');
    // In structured outputs' form: closed, every property listed, the optional one nullable.
    expect((requests[0]!.inputSchema as any).properties.fields.properties.headquarters.properties.value).toEqual({
      type: ['object', 'null'],
      title: 'Address',
      description: 'Head office',
      properties: { city: { type: 'string' }, country: { type: ['string', 'null'] } },
      required: ['city', 'country'],
      additionalProperties: false,
    });
  });

  it('keeps a nested value the inlined schema accepts, and rejects one outside the enum it points to', async () => {
    const { model } = fakeModel({
      fields: {
        headquarters: fieldAnswer({ city: 'Aarhus', country: 'Denmark' }, [[1, 'Headquarters: Aarhus, Denmark']]),
        industry: fieldAnswer('Robotics', [[1, 'Industry: Robotics']]),
        ceo: fieldAnswer('Mette Langgaard', [[1, 'CEO: Mette Langgaard']]),
      },
    });
    const output = await extract(input, model);
    expect(output.extracted_data).toEqual({ headquarters: { city: 'Aarhus', country: 'Denmark' }, ceo: 'Mette Langgaard' });
    expect(output.rejected_fields).toEqual([{ field: 'industry', reason: expect.stringContaining('must be equal to one of the allowed values') }]);
    expect(recordProblems(input.extraction_schema, output.extracted_data, { partial: false })).toEqual([]);

    const reflection = await reflect(
      reflectionInputSchema.parse({
        company_name: 'Brightgull Robotics',
        extraction_schema: company,
        extracted_data: output.extracted_data,
        evidence: output.evidence,
        field_confidence: output.field_confidence,
        confidence_score: output.confidence_score,
      }),
    );
    expect(reflection).toMatchObject({ is_complete: true, missing_fields: ['industry'], quality_issues: [] });
  });

  it('labels a field by the description written at the $ref', () => {
    expect(fieldsOf(input.extraction_schema).map((f) => [f.name, f.label, f.required])).toEqual([
      ['headquarters', 'Head office', true],
      ['industry', 'industry', false],
      ['ceo', 'ceo', true],
    ]);
  });
});

describe('inlineLocalRefs', () => {
  it('reports nothing and copies a schema without references', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(inlineLocalRefs(schema)).toEqual({ schema, inlined: 0, problems: [] });
  });

  it('counts every $ref it replaces, nested ones included', () => {
    const { inlined, problems } = inlineLocalRefs(company);
    expect(problems).toEqual([]);
    expect(inlined).toBe(2);
    const nested = { type: 'object', properties: { a: { $ref: '#/$defs/A' }, b: { $ref: '#/$defs/A' } }, $defs: { A: { items: { $ref: '#/$defs/B' } }, B: {} } };
    expect(inlineLocalRefs(nested).inlined).toBe(3); // B is resolved once, where A is; A's copy is reused for b
  });

  it('turns a reference to a boolean schema into an object schema', () => {
    const { schema } = inlineLocalRefs({ type: 'object', properties: { any: { $ref: '#/$defs/T' }, none: { $ref: '#/$defs/F' } }, $defs: { T: true, F: false } });
    expect(schema.properties).toEqual({ any: {}, none: { not: {} } });
  });

  it('decodes JSON pointer escapes', () => {
    const { schema, problems } = inlineLocalRefs({ type: 'object', properties: { a: { $ref: '#/$defs/a~1b%20c' } }, $defs: { 'a/b c': { type: 'integer' } } });
    expect(problems).toEqual([]);
    expect(schema.properties).toEqual({ a: { type: 'integer' } });
  });
});

describe('jsonByteLength', () => {
  it('is the UTF-8 length of the JSON text', () => {
    const value = { a: [1, 'zwölf', null, true, { 'ké': 'ü' }], b: {}, c: [] };
    expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });

  it('counts a shared subtree each time it is used, as JSON would write it', () => {
    const shared = { type: 'string', description: 'reused' };
    const value = { a: shared, b: [shared, shared] };
    expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });
});
