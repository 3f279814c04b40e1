import { describe, expect, it } from 'vitest';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { checkLabels, labelsFileSchema, matchItems, precisionOf, recallOf, scoreEval, valuesMatch, type LabelsFile, type SourceLookup } from '../../eval/scoring';

const schema: ExtractionSchema = {
  type: 'object',
  properties: {
    ceo: { type: 'string' },
    founded_year: { type: 'integer' },
    founded_on: { type: 'string', format: 'date' },
    headquarters: { type: 'object', properties: { city: { type: 'string' }, country: { type: 'string' } } },
    products: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    ownership: { type: 'string', enum: ['private', 'public'] },
  },
};

const PAGE = 'https://acme.example/about';
const pages: Record<string, string> = { [PAGE]: 'Acme makes anvils.\n- CEO: Wile Coyote\n- Founded: 1949\n- Headquarters: Tucson, United States' };
const lookup: SourceLookup = (url) => (url in pages ? { kind: 'text', text: pages[url]! } : { kind: 'absent' });

const expected = {
  ceo: 'Wile Coyote',
  founded_year: 1949,
  founded_on: null,
  headquarters: { city: 'Tucson', country: 'United States' },
  products: ['Anvil', 'Rocket skates', 'Giant magnet'],
  ownership: 'private',
};
const labels = (extra: Partial<LabelsFile['companies'][number]> = {}): LabelsFile =>
  labelsFileSchema.parse({ companies: [{ company_name: 'Acme', expected, ...extra }] });

function result(data: Record<string, unknown>, more: Partial<CompanyResult> = {}): CompanyResult {
  const evidence = Object.fromEntries(Object.keys(data).map((field) => [field, [{ url: PAGE, title: 'About', excerpt: 'CEO: Wile Coyote' }]]));
  return {
    index: 0,
    company_name: 'Acme',
    status: 'completed',
    data,
    iterations: 1,
    complete: false,
    completeness_score: 0.5,
    missing_fields: [],
    confidence_score: 0.9,
    sources: {},
    evidence,
    field_confidence: {},
    unverified_fields: [],
    contested_fields: [],
    quality_issues: [],
    cost: { usd: 0.02, search_usd: 0, llm_usd: 0, lambda_usd: 0, step_functions_usd: 0, search_queries: 1, search_credits: 1, llm_input_tokens: 0, llm_output_tokens: 0, llm: {}, lambda_gb_seconds: 0 },
    ...more,
  };
}

const right = { ceo: 'Wile Coyote', founded_year: 1949, headquarters: { city: 'Tucson', country: 'United States' }, products: ['Anvil', 'Rocket skates'], ownership: 'private' };
const field = (report: ReturnType<typeof scoreEval>, name: string) => report.fields.find((f) => f.field === name)!;

describe('matching a value to its label', () => {
  it('compares strings without regard to case, spacing or accents, and by the words they share', () => {
    expect(valuesMatch('  wile   COYOTE ', 'Wile Coyote')).toBe(true);
    expect(valuesMatch('Gdansk', 'Gdańsk')).toBe(true);
    expect(valuesMatch('Tucson, Arizona', 'Tucson')).toBe(true);
    expect(valuesMatch('Road Runner', 'Wile Coyote')).toBe(false);
    expect(valuesMatch('', 'Wile Coyote')).toBe(false);
  });

  it('takes numbers as equal or not, and dates and enum values exactly', () => {
    expect(valuesMatch(1949, 1949)).toBe(true);
    expect(valuesMatch(1950, 1949)).toBe(false);
    expect(valuesMatch('2014-03-03', '2014-03-03', { format: 'date' })).toBe(true);
    // compareStatements alone would call these the same: both state 2014.
    expect(valuesMatch('2014-03-04', '2014-03-03', { format: 'date' })).toBe(false);
    expect(valuesMatch('public', 'private', { enum: ['private', 'public'] })).toBe(false);
  });

  it('compares objects field by field and lists as sets, each label item matched once', () => {
    expect(valuesMatch({ city: 'Tucson', country: 'United States' }, { city: 'tucson', country: 'United States' })).toBe(true);
    expect(valuesMatch({ city: 'Tucson', country: 'Mexico' }, { city: 'Tucson', country: 'United States' })).toBe(false);
    expect(matchItems(['Rocket skates', 'Anvil'], ['Anvil', 'Rocket skates', 'Giant magnet'])).toBe(2);
    expect(matchItems(['Anvil', 'Anvil'], ['Anvil'])).toBe(1);
    expect(matchItems(['Kobalt HP-40'], ['Kobalt HP-90'])).toBe(0);
  });
});

describe('scoring', () => {
  it('gives full marks to a record equal to its label', () => {
    const report = scoreEval(labels(), [result(right)], schema, lookup);
    expect(precisionOf(report.overall)).toBe(1);
    expect(recallOf(report.overall)).toBe(1);
    expect(report.mismatches).toEqual([]);
  });

  it('lowers precision and recall for a wrong value, and recall alone for a missing one', () => {
    const wrong = scoreEval(labels(), [result({ ...right, ceo: 'Road Runner' })], schema, lookup);
    expect(field(wrong, 'ceo')).toMatchObject({ given: 1, correct: 0, labelled: 1, found: 0 });
    expect(wrong.mismatches).toEqual([expect.objectContaining({ field: 'ceo', kind: 'wrong', given: 'Road Runner', expected: 'Wile Coyote' })]);

    const { ceo: _, ...withoutCeo } = right;
    const missing = scoreEval(labels(), [result(withoutCeo)], schema, lookup);
    expect(field(missing, 'ceo')).toMatchObject({ given: 0, correct: 0, labelled: 1, found: 0 });
    expect(precisionOf(field(missing, 'ceo'))).toBeNull();
    expect(precisionOf(missing.overall)).toBe(1);
    expect(recallOf(missing.overall)).toBeLessThan(1);
  });

  it('counts a value where the label has none as a wrong value', () => {
    const report = scoreEval(labels(), [result({ ...right, founded_on: '1949-01-01' })], schema, lookup);
    expect(field(report, 'founded_on')).toMatchObject({ given: 1, correct: 0, labelled: 0, found: 0 });
    expect(report.mismatches[0]).toMatchObject({ field: 'founded_on', kind: 'extra' });
  });

  it('scores a nested object property by property', () => {
    const report = scoreEval(labels(), [result({ ...right, headquarters: { city: 'Tucson', country: 'Mexico' } })], schema, lookup);
    expect(field(report, 'headquarters.city')).toMatchObject({ correct: 1, found: 1 });
    expect(field(report, 'headquarters.country')).toMatchObject({ correct: 0, found: 0 });
    expect(field(report, 'headquarters')).toMatchObject({ given: 2, correct: 1, labelled: 2, found: 1 });
  });

  it('counts list items, with recall out of at most maxItems label items', () => {
    // Two right items of a three-item label under maxItems 2: all a valid record can hold.
    const full = scoreEval(labels(), [result(right)], schema, lookup);
    expect(field(full, 'products')).toMatchObject({ given: 2, correct: 2, labelled: 2, found: 2 });
    const oneWrong = scoreEval(labels(), [result({ ...right, products: ['Anvil', 'Bird seed'] })], schema, lookup);
    expect(field(oneWrong, 'products')).toMatchObject({ given: 2, correct: 1, labelled: 2, found: 1 });
  });

  it('verifies excerpts against the page text, and not an excerpt missing from its page or a page that does not exist', () => {
    const base = result(right);
    const report = scoreEval(labels(), [{
      ...base,
      evidence: {
        ...base.evidence,
        ceo: [
          { url: PAGE, title: 'About', excerpt: 'CEO: Wile Coyote' },
          { url: PAGE, title: 'About', excerpt: 'CEO: Wile E. Coyote, genius' },
          { url: 'https://acme.example/made-up', title: 'Nowhere', excerpt: 'CEO: Wile Coyote' },
        ],
      },
    }], schema, lookup);
    expect(field(report, 'ceo').excerpts).toEqual({ checked: 3, verified: 1, notVerified: 2, unavailable: 0 });
  });

  it('says when a page text is unavailable instead of counting its excerpt verified', () => {
    const report = scoreEval(labels(), [result(right)], schema, () => ({ kind: 'unavailable' }));
    expect(report.overall.excerpts.verified).toBe(0);
    expect(report.overall.excerpts.checked).toBe(0);
    expect(report.overall.excerpts.unavailable).toBeGreaterThan(0);
    expect(report.unavailableUrls).toEqual([PAGE]);
  });

  it('counts values without evidence', () => {
    const base = result(right);
    const { ceo: _, ...evidence } = base.evidence;
    const report = scoreEval(labels(), [{ ...base, evidence }], schema, lookup);
    expect(field(report, 'ceo')).toMatchObject({ values: 1, withEvidence: 0 });
    expect(report.overall.withEvidence).toBe(report.overall.values - 1);
  });

  it("tells a namesake record that stayed with its company from one that took another company's values", () => {
    const namesake = { traps: ['namesake' as const], namesake: { entity_domain: 'acme.example', other_domains: ['acme-toys.example'] } };
    const stayed = scoreEval(labels(namesake), [result(right)], schema, lookup);
    expect(stayed.companies[0]!.namesake?.outcome).toBe('right_entity');

    const base = result(right);
    const took = { ...base, evidence: { ...base.evidence, ceo: [{ url: 'https://shop.acme-toys.example/team', title: 'Team', excerpt: 'CEO: Wile Coyote' }] } };
    const unflagged = scoreEval(labels(namesake), [took], schema, lookup);
    expect(unflagged.companies[0]!.namesake?.outcome).toBe('took_other');
    expect(unflagged.namesakes).toMatchObject({ total: 1, tookOther: 1, rightEntity: 0, flagged: 0 });

    // The low-confidence line names no company: it is not a flag.
    const vague = scoreEval(labels(namesake), [{ ...took, quality_issues: ['low extraction confidence (0.4): sources may disagree or describe another company'] }], schema, lookup);
    expect(vague.companies[0]!.namesake?.outcome).toBe('took_other');
    const flagged = scoreEval(labels(namesake), [{ ...took, quality_issues: ['values that seem to describe another company named Acme: ceo (acme-toys.example)'] }], schema, lookup);
    expect(flagged.companies[0]!.namesake?.outcome).toBe('flagged');
  });

  it('checks not_found against the label, both ways', () => {
    const none = Object.fromEntries(Object.keys(expected).map((k) => [k, null]));
    const file = labelsFileSchema.parse({
      companies: [
        { company_name: 'Nobody', expected: none, expected_status: 'not_found', traps: ['no_pages'] },
        { company_name: 'Acme', expected },
      ],
    });
    const report = scoreEval(file, [result({}, { status: 'not_found' }), result({}, { index: 1, status: 'not_found' })], schema, lookup);
    expect(report.notFound).toEqual({ expected: 1, expectedAndGot: 1, unexpected: ['Acme'], correct: 1, total: 2 });
  });

  it('averages cost over the companies', () => {
    const file = labelsFileSchema.parse({ companies: [{ company_name: 'Acme', expected }, { company_name: 'Acme', expected }] });
    const second = result(right, { index: 1 });
    const report = scoreEval(file, [result(right), { ...second, cost: { ...second.cost, usd: 0.04 } }], schema, lookup);
    expect(report.cost.meanUsd).toBeCloseTo(0.03, 10);
  });
});

describe('labels', () => {
  it('must give every field of the schema, and no other', () => {
    const { ownership: _, ...short } = expected;
    const file = labelsFileSchema.parse({ companies: [{ company_name: 'Acme', expected: { ...short, mascot: 'Road Runner' } }] });
    const problems = checkLabels(file, schema);
    expect(problems.join('\n')).toMatch(/no value \(or null\) for ownership/);
    expect(problems.join('\n')).toMatch(/fields the schema does not have: mascot/);
    expect(checkLabels(labels(), schema)).toEqual([]);
  });

  it('refuse a namesake without the domains to judge it by', () => {
    expect(checkLabels(labels({ traps: ['namesake'] }), schema)).toEqual([expect.stringMatching(/namesake trap needs/)]);
  });

  it('of the evaluation set fit its schema', async () => {
    const { readFileSync } = await import('node:fs');
    const file = labelsFileSchema.parse(JSON.parse(readFileSync('eval/labels.json', 'utf8')));
    const evalSchema = JSON.parse(readFileSync('eval/schema.json', 'utf8')) as ExtractionSchema;
    expect(checkLabels(file, evalSchema)).toEqual([]);
    expect(file.companies.length).toBeGreaterThanOrEqual(30);
  });
});
