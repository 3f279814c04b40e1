import { describe, expect, it } from 'vitest';
import { completenessScore, followUpQueries, missingFields, reflect } from '../../lambdas/core/completeness';
import type { ExtractionSchema, ReflectionInput } from '../../lambdas/core/contracts';
import { fieldsOf } from '../../lambdas/core/json-schema';

const schema: ExtractionSchema = {
  type: 'object',
  properties: {
    founded: { type: 'integer', description: 'year founded' },
    headquarters: { type: 'string', description: 'headquarters city' },
    ceo: { type: 'string' },
    products: { type: 'array', items: { type: 'string' }, description: 'main products' },
  },
  required: ['founded', 'headquarters'],
};

const completeData = { founded: 2011, headquarters: 'Lyon', ceo: 'Claire Dubois', products: ['PickBot'] };
const allCited = { founded: 'https://a.example', headquarters: 'https://a.example', ceo: 'https://b.example', products: 'https://b.example' };

function input(overrides: Partial<ReflectionInput> = {}): ReflectionInput {
  return {
    company_name: 'Northwind Robotics',
    extraction_schema: schema,
    extracted_data: completeData,
    field_sources: allCited,
    confidence_score: 0.9,
    previous_queries: [],
    max_follow_up_queries: 3,
    ...overrides,
  };
}

describe('reflect', () => {
  it('accepts a fully filled, fully cited record without follow-ups or issues', () => {
    expect(reflect(input())).toEqual({
      is_complete: true,
      completeness_score: 1,
      missing_fields: [],
      follow_up_queries: [],
      quality_issues: [],
    });
  });

  it('is complete when only optional fields are missing, but still plans queries for them', () => {
    const result = reflect(input({ extracted_data: { founded: 2011, headquarters: 'Lyon' }, field_sources: allCited }));
    expect(result.is_complete).toBe(true);
    expect(result.missing_fields).toEqual(['ceo', 'products']);
    expect(result.completeness_score).toBeLessThan(1);
    expect(result.follow_up_queries).toHaveLength(2);
  });

  it('is not complete while a required field is missing, and lists required gaps first', () => {
    const result = reflect(input({ extracted_data: { ceo: 'Claire Dubois' }, field_sources: { ceo: 'https://b.example' } }));
    expect(result.is_complete).toBe(false);
    expect(result.missing_fields).toEqual(['founded', 'headquarters', 'products']);
  });

  it('asks follow-ups that name the company and what the field means', () => {
    const result = reflect(input({ extracted_data: { ceo: 'Claire Dubois' }, field_sources: { ceo: 'https://b.example' } }));
    expect(result.follow_up_queries).toEqual([
      'Northwind Robotics year founded',
      'Northwind Robotics headquarters city',
      'Northwind Robotics main products',
    ]);
  });

  it('treats blank strings, nulls and empty lists as missing', () => {
    const result = reflect(input({ extracted_data: { founded: null, headquarters: '  ', ceo: 'Claire', products: [] } }));
    expect(result.missing_fields).toEqual(['founded', 'headquarters', 'products']);
    expect(result.is_complete).toBe(false);
  });

  it('does not repeat a query already run, even with different case or spacing', () => {
    const result = reflect(
      input({
        extracted_data: {},
        field_sources: {},
        previous_queries: ['northwind robotics   YEAR founded'],
      }),
    );
    expect(result.follow_up_queries).not.toContain('Northwind Robotics year founded');
    expect(result.follow_up_queries[0]).toBe('Northwind Robotics headquarters city');
  });

  it('plans no more follow-ups than allowed', () => {
    const result = reflect(input({ extracted_data: {}, field_sources: {}, max_follow_up_queries: 2 }));
    expect(result.missing_fields).toHaveLength(4);
    expect(result.follow_up_queries).toEqual(['Northwind Robotics year founded', 'Northwind Robotics headquarters city']);
  });

  it('needs every field when the schema has no required list', () => {
    const { required: _none, ...open } = schema;
    const result = reflect(input({ extraction_schema: open, extracted_data: { founded: 2011, headquarters: 'Lyon', ceo: 'Claire' } }));
    expect(result.is_complete).toBe(false);
    expect(result.missing_fields).toEqual(['products']);
  });

  it('flags a filled field that cites no source', () => {
    const { ceo: _dropped, ...sources } = allCited;
    const result = reflect(input({ field_sources: sources }));
    expect(result.quality_issues).toEqual(['ceo: no source cited']);
    expect(result.is_complete).toBe(true);
  });

  it('flags low extraction confidence, but not for an empty record', () => {
    expect(reflect(input({ confidence_score: 0.4 })).quality_issues.join('\n')).toMatch(/low extraction confidence \(0\.4\)/);
    expect(reflect(input({ confidence_score: 0.7 })).quality_issues).toEqual([]);
    expect(reflect(input({ extracted_data: {}, field_sources: {}, confidence_score: 0 })).quality_issues).toEqual([]);
  });
});

describe('completenessScore', () => {
  const fields = fieldsOf(schema);

  it('weighs required fields twice as much as optional ones', () => {
    // Required weigh 2 each, optional 1 each: 6 in all.
    expect(completenessScore(fields, { founded: 2011 })).toBeCloseTo(2 / 6, 3);
    expect(completenessScore(fields, { ceo: 'Claire' })).toBeCloseTo(1 / 6, 3);
    expect(completenessScore(fields, completeData)).toBe(1);
    expect(completenessScore(fields, {})).toBe(0);
  });

  it('scores a schema without fields as complete', () => {
    expect(completenessScore([], {})).toBe(1);
  });
});

describe('missingFields', () => {
  it('puts required fields first whatever their order in the schema', () => {
    const ordered: ExtractionSchema = {
      type: 'object',
      properties: { website: { type: 'string' }, employees: { type: 'integer' }, name: { type: 'string' } },
      required: ['name'],
    };
    expect(missingFields(fieldsOf(ordered), {}).map((f) => f.name)).toEqual(['name', 'website', 'employees']);
  });
});

describe('followUpQueries', () => {
  const fields = fieldsOf({ type: 'object', properties: { total_funding: {}, ceo_name: { description: '  chief executive  ' } } });

  it('uses the field name with spaces when there is no description', () => {
    expect(followUpQueries('Acme', fields, [], 5)).toEqual(['Acme total funding', 'Acme chief executive']);
  });

  it('stops at the limit', () => {
    expect(followUpQueries('Acme', fields, [], 1)).toEqual(['Acme total funding']);
  });

  it('skips queries run before', () => {
    expect(followUpQueries('Acme', fields, ['Acme total funding'], 5)).toEqual(['Acme chief executive']);
  });
});
