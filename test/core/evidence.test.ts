import { describe, expect, it } from 'vitest';
import { compareStatements, evidenceCoverage, findExcerpt, numbersIn, statedPart } from '../../lambdas/core/evidence';

const PAGE = [
  '# Northwind Robotics',
  '',
  'Northwind Robotics builds robots for  warehouses. Its chief executive, Claire Dubois, said the company’s',
  'new factory — its second — opens in “early 2025”.',
  '',
  '- **Founded:** 12 March 2011',
  '- Total funding: $1.2 billion',
].join('\n');

describe('findExcerpt', () => {
  it('finds a passage whatever its case and spacing, and gives it back as the page writes it', () => {
    expect(findExcerpt('NORTHWIND ROBOTICS BUILDS ROBOTS FOR WAREHOUSES', PAGE)).toEqual({ found: true, excerpt: 'Northwind Robotics builds robots for  warehouses' });
    // A line break in the page is a space in the quote.
    expect(findExcerpt("said the company's new factory", PAGE)).toEqual({ found: true, excerpt: 'said the company’s\nnew factory' });
  });

  it('sets aside typographic quotes and dashes, Markdown emphasis, and quotation marks or an ellipsis around the quote', () => {
    expect(findExcerpt('its second - opens in "early 2025"', PAGE)).toEqual({ found: true, excerpt: 'its second — opens in “early 2025”' });
    expect(findExcerpt('Founded: 12 March 2011', PAGE)).toEqual({ found: true, excerpt: '**Founded:** 12 March 2011' });
    expect(findExcerpt('"…Total funding: $1.2 billion"', PAGE)).toEqual({ found: true, excerpt: 'Total funding: $1.2 billion' });
  });

  it('rejects a paraphrase, a passage from elsewhere, and one too short to identify', () => {
    expect(findExcerpt('Northwind Robotics makes warehouse robots', PAGE)).toEqual({ found: false, reason: expect.stringMatching(/is not in the source/) });
    expect(findExcerpt('Founded: 2011', PAGE).found).toBe(false);
    expect(findExcerpt('2011', PAGE)).toEqual({ found: false, reason: expect.stringMatching(/too short/) });
  });
});

describe('statedPart', () => {
  it('keeps a number the passage states, scale words and separators included', () => {
    expect(statedPart(1_200_000_000, ['Total funding: $1.2 billion'])).toBe(1_200_000_000);
    expect(statedPart(1850, ['Employees: 1,850'])).toBe(1850);
    expect(statedPart(1849, ['Employees: 1,850'])).toBeUndefined();
    expect(statedPart(2011, ['Founded: 12 March 2011'])).toBe(2011);
  });

  it('keeps a date whose year and day the passage states, and text whose words it uses', () => {
    expect(statedPart('2011-03-12', ['Founded: 12 March 2011'])).toBe('2011-03-12');
    expect(statedPart('2011-03-14', ['Founded: 12 March 2011'])).toBeUndefined();
    expect(statedPart('Lyon, France', ['Headquarters: Lyon, France'])).toBe('Lyon, France');
    expect(statedPart('private', ['Ownership: Privately held'])).toBe('private');
    expect(statedPart('Paris', ['Headquarters: Lyon, France'])).toBeUndefined();
  });

  it('keeps the items and properties a passage states, and drops the rest', () => {
    expect(statedPart(['PickBot', 'RoboArm'], ['Products: PickBot, ShelfScan'])).toEqual(['PickBot']);
    expect(statedPart({ city: 'Aarhus', country: 'Sweden' }, ['Headquarters: Aarhus, Denmark'])).toEqual({ city: 'Aarhus' });
    expect(statedPart(['RoboArm'], ['Products: PickBot'])).toBeUndefined();
  });
});

describe('compareStatements', () => {
  it.each([
    ['Rotterdam, Netherlands', 'Rotterdam', 'same'],
    [140_000_000, 'USD 140,000,000', 'same'],
    [1_200_000_000, '$1.2 billion', 'same'],
    [1850, '1,700', 'different'],
    ['Lyon', 'Paris', 'different'],
    ['Joris van Heemstede', 'J. van Heemstede', 'undecided'],
    [['PickBot', 'ShelfScan'], 'PickBot, FleetOS', 'undecided'],
  ])('%j and %j: %s', (a, b, expected) => {
    expect(compareStatements(a, b)).toBe(expected);
  });
});

describe('numbersIn', () => {
  it('reads numbers with separators, decimals and scale words', () => {
    expect(numbersIn('$85 million, 1,250 staff, 2.5k users')).toEqual([85, 85_000_000, 1250, 2.5, 2500]);
  });
});

describe('evidenceCoverage', () => {
  it('counts the non-null values with evidence, and names those without', () => {
    const coverage = evidenceCoverage([
      { company_name: 'A', data: { ceo: 'Jo', hq: null, founded: 2011 }, evidence: { ceo: [{}] } },
      { company_name: 'B', data: {}, evidence: {} },
    ]);
    expect(coverage).toEqual({ values: 2, withEvidence: 1, without: ['A.founded'] });
  });
});
