import { describe, expect, it } from 'vitest';
import type { ExtractionSchema } from '../../lambdas/core/contracts';
import { extractionAnswer, MAX_NULLABLE_PROPERTIES } from '../../lambdas/core/structured-output';

const valueOf = (answer: ReturnType<typeof extractionAnswer>, field: string) =>
  (answer.schema as any).properties.fields.properties[field].properties.value;

describe('extractionAnswer', () => {
  it("puts the user's fields in structured outputs' subset: closed objects, all properties listed, bounds stated in words", () => {
    const schema: ExtractionSchema = {
      type: 'object',
      properties: {
        products: { type: 'array', items: { type: 'string', maxLength: 40 }, maxItems: 10, minItems: 1, description: 'Main products' },
        headquarters: { type: 'object', properties: { city: { type: 'string' }, country: { type: 'string' } }, required: ['city'] },
        ownership: { type: 'string', enum: ['private', 'public'] },
        founded_on: { type: 'string', format: 'date' },
        rating: { oneOf: [{ type: 'integer', minimum: 1, maximum: 5 }, { type: 'string', format: 'isbn' }] },
      },
    };
    const answer = extractionAnswer(schema);
    expect(answer.format).toBe('json_schema');
    expect(valueOf(answer, 'products')).toEqual({
      type: ['array', 'null'],
      items: { type: 'string', description: '(at most 40 characters)' },
      minItems: 1,
      description: 'Main products (at most 10 items)',
    });
    expect(valueOf(answer, 'headquarters')).toEqual({
      type: ['object', 'null'],
      properties: { city: { type: 'string' }, country: { type: ['string', 'null'] } },
      required: ['city', 'country'],
      additionalProperties: false,
    });
    expect(valueOf(answer, 'ownership')).toEqual({ anyOf: [{ type: 'string', enum: ['private', 'public'] }, { type: 'null' }] });
    expect(valueOf(answer, 'founded_on')).toEqual({ type: ['string', 'null'], format: 'date' });
    expect(valueOf(answer, 'rating')).toEqual({
      anyOf: [{ anyOf: [{ type: 'integer', description: '(at least 1; at most 5)' }, { type: 'string', description: '(format isbn)' }] }, { type: 'null' }],
    });
    // Every field answers with its passages, in the same closed form.
    const field = (answer.schema as any).properties.fields.properties.products;
    expect(field.required).toEqual(['value', 'evidence', 'confidence', 'conflicting']);
    expect(field.additionalProperties).toBe(false);
  });

  it.each([
    ['a map', { type: 'object', additionalProperties: { type: 'integer' } }, 'an object without properties (a map)'],
    ['a conditional', { type: 'string', if: { minLength: 3 }, then: {} }, 'if'],
    ['an enum of objects', { enum: [{ a: 1 }] }, 'an enum of objects or lists'],
    ['a field of any type', {}, 'a field of any type'],
  ])('asks with a forced tool for %s, the user schema as it is', (_name, field, reason) => {
    const answer = extractionAnswer({ type: 'object', properties: { x: field as Record<string, unknown> } });
    expect(answer).toMatchObject({ format: 'tool', reason });
    expect(valueOf(answer, 'x')).toEqual({ anyOf: [field, { type: 'null' }] });
  });

  it('asks with a forced tool when the schema has more nullable properties than structured outputs allows', () => {
    const many = (n: number): ExtractionSchema => ({
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, { type: 'string' }])),
    });
    expect(extractionAnswer(many(MAX_NULLABLE_PROPERTIES)).format).toBe('json_schema');
    expect(extractionAnswer(many(MAX_NULLABLE_PROPERTIES + 1))).toMatchObject({ format: 'tool', reason: expect.stringMatching(/17 nullable properties/) });
  });

  it('asks only for the fields it is given (the repair round)', () => {
    const answer = extractionAnswer({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } }, ['b']);
    expect(Object.keys((answer.schema as any).properties.fields.properties)).toEqual(['b']);
  });
});
