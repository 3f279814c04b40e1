import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { reflectionInputSchema, zeroUsage, type Evidence, type ExtractionSchema, type ReflectionInput, type Usage } from '../../lambdas/core/contracts';
import { reflect } from '../../lambdas/core/reflection';
import { fakeModel } from '../support/fake-model';

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

const ABOUT = 'https://northwind.example/about';
const TEAM = 'https://northwind.example/team';
const passage = (url: string, excerpt: string): Evidence => ({ url, title: 'Northwind', excerpt });

const completeData = { founded: 2011, headquarters: 'Lyon', ceo: 'Claire Dubois', products: ['PickBot'] };
const allEvidence = {
  founded: [passage(ABOUT, 'Founded: 2011')],
  headquarters: [passage(ABOUT, 'Headquarters: Lyon')],
  ceo: [passage(TEAM, 'CEO: Claire Dubois')],
  products: [passage(ABOUT, 'Products: PickBot')],
};

function input(overrides: Partial<z.input<typeof reflectionInputSchema>> = {}): ReflectionInput {
  return reflectionInputSchema.parse({
    company_name: 'Northwind Robotics',
    extraction_schema: schema,
    extracted_data: completeData,
    evidence: allEvidence,
    field_confidence: { founded: 0.9, headquarters: 0.9, ceo: 0.9, products: 0.9 },
    confidence_score: 0.9,
    ...overrides,
  });
}

const usage: Usage = {
  search_queries: 3,
  search_credits: 3,
  llm: { 'claude-sonnet-4-6': { input_tokens: 1000, output_tokens: 100, cache_write_tokens: 0, cache_read_tokens: 0 } },
  lambda_gb_seconds: 0,
};

describe('reflect: completeness', () => {
  it('accepts a fully filled record whose every value has evidence, without follow-ups or issues', async () => {
    expect(await reflect(input())).toEqual({
      is_complete: true,
      completeness_score: 1,
      missing_fields: [],
      follow_up_queries: [],
      quality_issues: [],
      unverified_fields: [],
      contested_fields: [],
      confidence_score: 0.9,
      field_confidence: { founded: 0.9, headquarters: 0.9, ceo: 0.9, products: 0.9 },
      usage: zeroUsage(),
    });
  });

  it('is complete when only optional fields are missing, but still plans queries for them', async () => {
    const result = await reflect(input({ extracted_data: { founded: 2011, headquarters: 'Lyon' } }));
    expect(result.is_complete).toBe(true);
    expect(result.missing_fields).toEqual(['ceo', 'products']);
    expect(result.completeness_score).toBeLessThan(1);
    expect(result.follow_up_queries).toEqual(['Northwind Robotics ceo', 'Northwind Robotics main products']);
  });

  it('is not complete while a required field is missing, and asks for required gaps first', async () => {
    const result = await reflect(input({ extracted_data: { ceo: 'Claire Dubois' } }));
    expect(result.is_complete).toBe(false);
    expect(result.missing_fields).toEqual(['founded', 'headquarters', 'products']);
    expect(result.follow_up_queries).toEqual([
      'Northwind Robotics year founded',
      'Northwind Robotics headquarters city',
      'Northwind Robotics main products',
    ]);
  });

  it('treats blank strings, nulls and empty lists as missing', async () => {
    const result = await reflect(input({ extracted_data: { founded: null, headquarters: '  ', ceo: 'Claire', products: [] } }));
    expect(result.missing_fields).toEqual(['founded', 'headquarters', 'products']);
    expect(result.is_complete).toBe(false);
  });

  it('does not repeat a query already run, even with different case or spacing, and plans no more than allowed', async () => {
    const result = await reflect(input({ extracted_data: {}, previous_queries: ['northwind robotics   YEAR founded'], max_follow_up_queries: 2 }));
    expect(result.follow_up_queries).toEqual(['Northwind Robotics headquarters city', 'Northwind Robotics ceo']);
  });

  it('needs every field when the schema has no required list', async () => {
    const { required: _none, ...open } = schema;
    const result = await reflect(input({ extraction_schema: open, extracted_data: { founded: 2011, headquarters: 'Lyon', ceo: 'Claire' } }));
    expect(result.is_complete).toBe(false);
    expect(result.missing_fields).toEqual(['products']);
  });
});

describe('reflect: evidence', () => {
  it('flags a value without evidence, and one that cites a page but no passage of it', async () => {
    const { ceo: _ceo, products: _products, ...evidence } = allEvidence;
    const result = await reflect(input({ evidence, field_sources: { products: ABOUT } }));
    expect(result.quality_issues).toEqual(['ceo: no source cited', `products: cites ${ABOUT} but no passage of it confirms the value`]);
  });

  it('asks again, first among its kind, for a value that was found but not confirmed', async () => {
    const result = await reflect(input({ extracted_data: { founded: 2011 }, unverified_fields: ['ceo'], max_follow_up_queries: 2 }));
    expect(result.unverified_fields).toEqual(['ceo']);
    expect(result.quality_issues).toContain('ceo: a value was found but no source passage confirms it, so it was left out');
    expect(result.follow_up_queries).toEqual(['Northwind Robotics headquarters city', 'Northwind Robotics ceo']);
  });

  it('flags low confidence, but not for an empty record', async () => {
    const low = await reflect(input({ field_confidence: {}, confidence_score: 0.4 }));
    expect(low.quality_issues.join('\n')).toMatch(/low extraction confidence \(0\.4\)/);
    expect((await reflect(input({ field_confidence: {}, confidence_score: 0.7 }))).quality_issues).toEqual([]);
    expect((await reflect(input({ extracted_data: {}, evidence: {}, confidence_score: 0 }))).quality_issues).toEqual([]);
  });
});

describe('reflect: contradictions', () => {
  const DIRECTORY = 'https://directory.example/northwind';
  const conflict = (field: string, value: string, excerpt: string, url = DIRECTORY) => ({ field, value, url, title: 'Directory', excerpt });

  it('reports two sources that disagree, lowers that field, keeps the record incomplete and searches for that field', async () => {
    const result = await reflect(input({ conflicts: [conflict('headquarters', 'Paris', 'Headquarters: Paris')], previous_queries: ['Northwind Robotics headquarters city'] }));
    expect(result.contested_fields).toEqual(['headquarters']);
    expect(result.quality_issues).toContain('headquarters: sources disagree: Lyon (northwind.example) against Paris (directory.example)');
    expect(result.field_confidence.headquarters).toBe(0.4);
    expect(result.is_complete).toBe(false);
    // The plain query ran already: the follow-up asks for the latest value, and only for that field.
    expect(result.follow_up_queries).toEqual(['Northwind Robotics headquarters city latest']);
  });

  it('sees no contradiction in a value that only says more, or the same number written otherwise', async () => {
    const result = await reflect(
      input({
        extracted_data: { ...completeData, headquarters: 'Lyon, France' },
        conflicts: [conflict('headquarters', 'Lyon', 'Based in Lyon'), conflict('founded', '2011', 'Founded in 2011')],
      }),
    );
    expect(result.contested_fields).toEqual([]);
    expect(result.quality_issues).toEqual([]);
  });

  it('calls an older value stale when a newer source states another, and leaves a superseded one alone', async () => {
    const employees: ExtractionSchema = { type: 'object', properties: { employees: { type: 'integer' } } };
    const stale = await reflect(
      input({
        extraction_schema: employees,
        extracted_data: { employees: 150 },
        evidence: { employees: [passage(ABOUT, 'Employees (2021): 150')] },
        field_confidence: { employees: 0.9 },
        conflicts: [conflict('employees', '210', 'In 2024 the company had 210 employees.')],
      }),
    );
    expect(stale.contested_fields).toEqual(['employees']);
    expect(stale.quality_issues).toContain('employees: 150 (northwind.example, as of 2021) is older than 210 (directory.example, as of 2024)');

    const current = await reflect(
      input({
        extraction_schema: employees,
        extracted_data: { employees: 210 },
        evidence: { employees: [passage(ABOUT, 'Employees (2024): 210')] },
        field_confidence: { employees: 0.9 },
        conflicts: [conflict('employees', '150', 'Employees (2021): 150')],
      }),
    );
    expect(current.contested_fields).toEqual([]);
    expect(current.is_complete).toBe(true);
  });

  it('asks a model only what rules cannot decide, once for all such pairs, and counts its tokens', async () => {
    const { model, requests } = fakeModel({ verdicts: [{ pair: 1, same_value: true }, { pair: 2, same_value: false }] }, { model: 'fake-model', input_tokens: 300, output_tokens: 20 });
    const result = await reflect(
      input({
        extracted_data: { ...completeData, ceo: 'Claire Dubois', products: ['PickBot', 'ShelfScan'] },
        conflicts: [
          conflict('ceo', 'C. Dubois', 'CEO: C. Dubois'),
          conflict('products', 'PickBot, FleetOS', 'Products: PickBot, FleetOS'),
          conflict('headquarters', 'Lyon', 'Lyon'),
        ],
        usage,
      }),
      { model: async () => model },
    );
    expect(requests).toHaveLength(1);
    expect(requests[0]!.prompt).toContain('Pair 1\nField: ceo\nFirst: Claire Dubois\nSecond: C. Dubois');
    expect(requests[0]!.prompt).toContain('Pair 2\nField: products\nFirst: PickBot, ShelfScan\nSecond: PickBot, FleetOS');
    expect(requests[0]!.format).toBe('json_schema');
    expect(result.contested_fields).toEqual(['products']);
    expect(result.usage).toEqual({
      ...usage,
      llm: { ...usage.llm, 'fake-model': { input_tokens: 300, output_tokens: 20, cache_write_tokens: 0, cache_read_tokens: 0 } },
    });
  });

  it('never calls a model when the rules decide everything', async () => {
    let asked = false;
    const result = await reflect(input({ conflicts: [conflict('headquarters', 'Paris', 'Headquarters: Paris')], usage }), {
      model: async () => {
        asked = true;
        return fakeModel({}).model;
      },
    });
    expect(asked).toBe(false);
    expect(result.usage).toEqual(usage);
  });

  it('counts a pair it could not judge, with no model, as a possible disagreement', async () => {
    const result = await reflect(input({ conflicts: [conflict('ceo', 'C. Dubois', 'CEO: C. Dubois')] }));
    expect(result.contested_fields).toEqual(['ceo']);
    expect(result.quality_issues[0]).toMatch(/^ceo: sources may disagree/);
  });
});

describe('reflect: the right company', () => {
  const BIO = 'https://mercury-bioworks.example';
  const FREIGHT = 'https://mercury-freight.example';
  const mercury = {
    company_name: 'Mercury',
    extracted_data: { founded: 2017, headquarters: 'Boston, United States', ceo: 'Priya Venkataraman', products: ['Quaylink', 'ReeferWatch'] },
  };
  // The issue's record: founding, headquarters and CEO of one Mercury, products of the other.
  const blended = {
    founded: [passage(`${BIO}/about`, 'Founded: 2017')],
    headquarters: [passage(`${BIO}/about`, 'Headquarters: Boston, United States')],
    ceo: [passage(`${BIO}/team`, 'CEO: Priya Venkataraman')],
    products: [passage(`${FREIGHT}/services`, 'Products: Quaylink, ReeferWatch, Mercury Portal')],
  };

  it('flags a record blended from two companies of the same name and gives it low confidence', async () => {
    const result = await reflect(input({ ...mercury, evidence: blended }));
    expect(result.quality_issues[0]).toBe(
      "the record mixes pages of different companies named Mercury: mercury-bioworks.example (founded, headquarters, ceo), mercury-freight.example (products): give the company's domain to choose",
    );
    expect(result.field_confidence.products).toBe(0.2);
    expect(result.confidence_score).toBeLessThanOrEqual(0.3);
  });

  it("flags values from a namesake's site in a record pinned to another domain", async () => {
    const identity = { domain: 'mercury-freight.example', pinned: true, other_entities: ['mercury-bioworks.example'], excluded_pages: 3 };
    const result = await reflect(input({ ...mercury, evidence: blended, identity }));
    expect(result.quality_issues[0]).toBe(
      'values that seem to describe another company named Mercury: founded (mercury-bioworks.example), headquarters (mercury-bioworks.example), ceo (mercury-bioworks.example)',
    );
    expect(result.confidence_score).toBeLessThanOrEqual(0.3);
  });

  it('flags a passage that names a namesake by its longer name', async () => {
    const identity = { domain: 'mercury-freight.example', pinned: true, other_entities: ['mercury-bioworks.example'], excluded_pages: 0 };
    const evidence = { ...allEvidence, ceo: [passage('https://news.example/a', 'Mercury Bioworks is led by Priya Venkataraman')] };
    const result = await reflect(input({ company_name: 'Mercury', evidence, identity }));
    expect(result.quality_issues[0]).toBe('values that seem to describe another company named Mercury: ceo (mercury bioworks)');
  });

  it('says when a name was not pinned and other companies bear it', async () => {
    const identity = { domain: 'mercury-bioworks.example', pinned: false, other_entities: ['mercury-freight.example'], excluded_pages: 3 };
    const evidence = { ...blended, products: [passage(`${BIO}/pipeline`, 'Products: Quaylink, ReeferWatch')] };
    const result = await reflect(input({ ...mercury, evidence, identity }));
    expect(result.quality_issues[0]).toBe(
      '"Mercury" also names other companies (mercury-freight.example); this record describes mercury-bioworks.example: give the company\'s domain to choose',
    );
    expect(result.confidence_score).toBe(0.5);
    // A pinned name with the same evidence is not in doubt.
    const pinned = await reflect(input({ ...mercury, evidence, identity: { ...identity, pinned: true } }));
    expect(pinned.quality_issues).toEqual([]);
  });
});
