import { describe, expect, it } from 'vitest';
import { completenessScore, followUpQueries, missingFields } from '../../lambdas/core/completeness';
import type { ExtractionSchema } from '../../lambdas/core/contracts';
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

  it('asks for the latest value of a contested field already searched plainly, and names a pinned domain', () => {
    const contested = new Set(['total_funding']);
    expect(followUpQueries('Acme', fields, ['acme total funding'], 5, { contested })).toEqual(['Acme total funding latest', 'Acme chief executive']);
    expect(followUpQueries('Acme', fields, [], 1, { domain: 'acme.example' })).toEqual(['Acme acme.example total funding']);
  });
});
