import { describe, expect, it } from 'vitest';
import { extractedRecordSchema, type ExtractedRecord, type ExtractionInput, type ExtractionSchema } from '../../lambdas/core/contracts';
import { extract, tidyValue } from '../../lambdas/core/extraction';
import { fakeModel, fieldAnswer, scriptedModel } from '../support/fake-model';

const schema: ExtractionSchema = {
  type: 'object',
  properties: {
    founded: { type: 'integer', minimum: 1800 },
    headquarters: { type: 'string' },
    employees: { type: 'integer', minimum: 1 },
    products: { type: 'array', items: { type: 'string' } },
  },
  required: ['founded', 'headquarters'],
};

const ABOUT = 'https://northwind.example/about';
const NEWS = 'https://news.example/northwind';
const PARIS = 'https://directory.example/northwind';

const PAGES = {
  about: 'Northwind Robotics builds robots for warehouses.\n\n- **Founded:** 2011\n- Headquarters: Lyon, France\n- Products: PickBot, ShelfScan, FleetOS',
  news: 'Northwind Robotics, founded in 2011, now employs more people than ever.\n\n- Employees: 1,400',
  paris: 'Northwind Robotics is listed in the Paris register.\n\n- Headquarters: Paris',
};

const notes = `- Founded: 2011 [1]\n- Headquarters: Lyon, France [1]\n- Employees: 1,400 [2]\n\nSources:\n[1] ${ABOUT}\n[2] ${NEWS}`;

function extractionInput(overrides: Partial<ExtractionInput> = {}): ExtractionInput {
  return {
    company_name: 'Northwind Robotics',
    extraction_schema: schema,
    research_notes: notes,
    model: 'large',
    sources: [
      { id: 1, url: ABOUT, title: 'About', content: PAGES.about },
      { id: 2, url: NEWS, title: 'News', content: PAGES.news },
      { id: 3, url: PARIS, title: 'Register', content: PAGES.paris },
    ],
    usage: {
      search_queries: 3,
      search_credits: 3,
      llm: { 'fake-model': { input_tokens: 500, output_tokens: 50, cache_write_tokens: 0, cache_read_tokens: 0 } },
      lambda_gb_seconds: 0.5,
    },
    ...overrides,
  };
}

const record = (overrides: Partial<ExtractedRecord>): ExtractedRecord => extractedRecordSchema.parse({ extracted_data: {}, confidence_score: 0, ...overrides });

describe('extract: evidence', () => {
  it('keeps a value whose passage is in its source, stored as the source writes it, and adds the call to the usage', async () => {
    const { model } = fakeModel({
      fields: {
        // Case, spacing and Markdown emphasis differ from the page: still the same passage.
        founded: fieldAnswer(2011, [[1, 'founded:   2011']], { confidence: 0.9 }),
        headquarters: fieldAnswer('Lyon, France', [[1, 'Headquarters: Lyon, France']], { confidence: 0.8 }),
        employees: fieldAnswer(null),
      },
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({ founded: 2011, headquarters: 'Lyon, France' });
    expect(result.evidence).toEqual({
      founded: [{ url: ABOUT, title: 'About', excerpt: '**Founded:** 2011' }],
      headquarters: [{ url: ABOUT, title: 'About', excerpt: 'Headquarters: Lyon, France' }],
    });
    expect(result.field_sources).toEqual({ founded: ABOUT, headquarters: ABOUT });
    expect(result.field_confidence).toEqual({ founded: 0.9, headquarters: 0.8 });
    expect(result.confidence_score).toBe(0.85);
    expect(result.unverified_fields).toEqual([]);
    expect(result.rejected_fields).toEqual([]);
    expect(result.pages_read).toBe(3);
    expect(result.usage).toEqual({
      search_queries: 3,
      search_credits: 3,
      llm: { 'fake-model': { input_tokens: 1300, output_tokens: 170, cache_write_tokens: 0, cache_read_tokens: 0 } },
      lambda_gb_seconds: 0.5,
    });
  });

  it('drops a value whose passage is a paraphrase, and lists its field as unverified', async () => {
    const { model } = fakeModel({
      fields: {
        founded: fieldAnswer(2011, [[1, 'Founded: 2011']]),
        employees: fieldAnswer(1400, [[2, 'The company has a staff of 1,400']]),
      },
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({ founded: 2011 });
    expect(result.evidence).not.toHaveProperty('employees');
    expect(result.unverified_fields).toEqual(['employees']);
    expect(result.rejected_fields).toEqual([{ field: 'employees', reason: expect.stringMatching(/not confirmed by a source: .*is not in the source/) }]);
  });

  it('drops a value the passage it quotes does not state', async () => {
    const { model } = fakeModel({ fields: { founded: fieldAnswer(2012, [[1, 'Founded: 2011']]) } });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({});
    expect(result.rejected_fields[0]!.reason).toMatch(/do not state the value/);
  });

  it('does not trust a passage cited to a source it has no text of', async () => {
    const { model } = fakeModel({ fields: { founded: fieldAnswer(2011, [[9, 'Founded: 2011']]) } });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({});
    expect(result.rejected_fields[0]!.reason).toMatch(/no source 9 with text/);
  });

  it('keeps nothing as sourced when it is given notes but no page texts', async () => {
    const { model, requests } = fakeModel({ fields: { founded: fieldAnswer(2011, [[1, 'Founded: 2011']]) } });
    const result = await extract(extractionInput({ sources: [{ url: ABOUT, title: 'About' }] }), model);
    expect(requests).toHaveLength(1);
    expect(result.extracted_data).toEqual({});
    expect(result.unverified_fields).toEqual(['founded']);
  });

  it('keeps only the list items a passage names', async () => {
    const { model } = fakeModel({ fields: { products: fieldAnswer(['PickBot', 'RoboArm', 'FleetOS'], [[1, 'Products: PickBot, ShelfScan, FleetOS']]) } });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data.products).toEqual(['PickBot', 'FleetOS']);
    expect(result.rejected_fields).toEqual([{ field: 'products', reason: 'left out what no passage states: PickBot, RoboArm, FleetOS → PickBot, FleetOS' }]);
  });

  it('records a conflicting passage only when it is really in its source', async () => {
    const { model } = fakeModel({
      fields: {
        headquarters: fieldAnswer('Lyon, France', [[1, 'Headquarters: Lyon, France']], {
          conflicting: [
            [3, 'Headquarters: Paris', 'Paris'],
            [2, 'Headquarters: Marseille', 'Marseille'],
          ],
        }),
      },
    });
    const result = await extract(extractionInput(), model);
    expect(result.conflicts).toEqual([{ field: 'headquarters', value: 'Paris', url: PARIS, title: 'Register', excerpt: 'Headquarters: Paris' }]);
  });
});

describe('extract: the schema', () => {
  it('asks for structured outputs against the user schema, every field nullable, bounds moved into descriptions', async () => {
    const { model, requests } = fakeModel({ fields: {} });
    await extract(extractionInput(), model);
    expect(requests[0]!.format).toBe('json_schema');
    const fields = (requests[0]!.inputSchema as any).properties.fields;
    expect(fields.required).toEqual(['founded', 'headquarters', 'employees', 'products']);
    expect(fields.properties.founded.properties.value).toEqual({ type: ['integer', 'null'], description: '(at least 1800)' });
    expect(requests[0]!.prompt).toContain('Northwind Robotics');
    expect(requests[0]!.prompt).toContain('<source id="2" url="https://news.example/northwind" title="News">');
  });

  it('falls back to a forced tool call for a schema structured outputs cannot express', async () => {
    const withMap: ExtractionSchema = { type: 'object', properties: { ...schema.properties, offices: { type: 'object', additionalProperties: { type: 'string' } } } };
    const { model, requests } = fakeModel({ fields: {} });
    await extract(extractionInput({ extraction_schema: withMap }), model);
    expect(requests[0]!.format).toBe('tool');
    expect((requests[0]!.inputSchema as any).properties.fields.properties.offices.properties.value).toEqual({
      anyOf: [{ type: 'object', additionalProperties: { type: 'string' } }, { type: 'null' }],
    });
  });

  it('asks once more for values that break the schema, then reports what is still wrong', async () => {
    const { model, requests } = scriptedModel([
      {
        fields: {
          founded: fieldAnswer(1700, [[1, 'Founded: 2011']]),
          employees: fieldAnswer('1,400', [[2, 'Employees: 1,400']]),
          headquarters: fieldAnswer('Lyon, France', [[1, 'Headquarters: Lyon, France']]),
        },
      },
      { fields: { founded: fieldAnswer(2011, [[1, 'Founded: 2011']]), employees: fieldAnswer('about 1,400', [[2, 'Employees: 1,400']]) } },
    ]);
    const result = await extract(extractionInput(), model);
    expect(requests).toHaveLength(2);
    expect(Object.keys((requests[1]!.inputSchema as any).properties.fields.properties)).toEqual(['founded', 'employees']);
    expect(requests[1]!.prompt).toMatch(/founded: value must be >= 1800/);
    expect(result.extracted_data).toEqual({ founded: 2011, headquarters: 'Lyon, France' });
    expect(result.rejected_fields).toEqual([{ field: 'employees', reason: expect.stringMatching(/must be integer \(still after one repair\)/) }]);
    expect(result.usage.llm['fake-model']!.input_tokens).toBe(500 + 2 * 800);
  });

  it('drops fields the schema does not ask for', async () => {
    const { model } = fakeModel({
      fields: { headquarters: fieldAnswer('Lyon, France', [[1, 'Headquarters: Lyon, France']]), stock_ticker: fieldAnswer('NWR', [[1, 'Northwind Robotics builds']]) },
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({ headquarters: 'Lyon, France' });
  });

  it('cuts a list longer than maxItems rather than dropping it, and leaves out the null parts of an object', () => {
    expect(tidyValue({ type: 'array', maxItems: 2 }, ['a', null, 'b', 'c'])).toEqual(['a', 'b']);
    const address = { type: 'object', properties: { city: { type: 'string' }, country: { type: 'string' } } };
    expect(tidyValue(address, { city: 'Lyon', country: null })).toEqual({ city: 'Lyon' });
    expect(tidyValue(address, { city: null, country: null })).toEqual({});
  });

  it('reports an answer without a fields object instead of failing', async () => {
    const previous = record({ extracted_data: { founded: 2011 }, confidence_score: 0.7 });
    const { model } = fakeModel({ data: 'Lyon, 2011' });
    const result = await extract(extractionInput({ previous }), model);
    expect(result.extracted_data).toEqual({ founded: 2011 });
    expect(result.rejected_fields).toEqual([{ field: '(answer)', reason: expect.any(String) }]);
  });
});

describe('extract: rounds', () => {
  const previous = record({
    extracted_data: { founded: 2011, headquarters: 'Lyon, France' },
    evidence: {
      founded: [{ url: ABOUT, title: 'About', excerpt: '**Founded:** 2011' }],
      headquarters: [{ url: ABOUT, title: 'About', excerpt: 'Headquarters: Lyon, France' }],
    },
    field_confidence: { founded: 0.9, headquarters: 0.9 },
    confidence_score: 0.9,
    unverified_fields: ['employees'],
    pages_read: 2,
  });

  it('keeps earlier values, adds a passage that agrees, records one that differs, and fills a gap', async () => {
    const { model } = fakeModel({
      fields: {
        founded: fieldAnswer(2011, [[2, 'founded in 2011']]),
        headquarters: fieldAnswer('Paris', [[3, 'Headquarters: Paris']]),
        employees: fieldAnswer(1400, [[2, 'Employees: 1,400']], { confidence: 0.6 }),
      },
    });
    const result = await extract(extractionInput({ previous }), model);
    expect(result.extracted_data).toEqual({ founded: 2011, headquarters: 'Lyon, France', employees: 1400 });
    expect(result.evidence.founded!.map((e) => e.url)).toEqual([ABOUT, NEWS]);
    expect(result.conflicts).toEqual([{ field: 'headquarters', value: 'Paris', url: PARIS, title: 'Register', excerpt: 'Headquarters: Paris' }]);
    expect(result.unverified_fields).toEqual([]);
    // Two fields at 0.9, one at 0.6.
    expect(result.confidence_score).toBe(0.8);
    expect(result.pages_read).toBe(5);
    expect(result.read_pages).toEqual(['northwind.example/about', 'news.example/northwind', 'directory.example/northwind']);
  });

  it('asks no model again when a round brings only pages an earlier round read, however their URLs are spelt', async () => {
    const { model, requests } = fakeModel({ fields: {} });
    const readAll = { ...previous, read_pages: ['northwind.example/about', 'news.example/northwind', 'directory.example/northwind'] };
    const again = extractionInput({
      previous: readAll,
      sources: [
        { id: 1, url: 'https://www.northwind.example/about/', title: 'About', content: PAGES.about },
        { id: 2, url: `${NEWS}?utm_source=feed`, title: 'News', content: PAGES.news },
      ],
    });
    const result = await extract(again, model);
    expect(requests).toHaveLength(0);
    expect(result).toEqual({ ...readAll, rejected_fields: [], usage: again.usage });

    // One page not read before is reason enough to ask: it is all the model is new to.
    const withNew = extractionInput({ previous: { ...readAll, read_pages: ['northwind.example/about', 'news.example/northwind'] } });
    const asked = fakeModel({ fields: { employees: fieldAnswer(1400, [[2, 'Employees: 1,400']]) } });
    const next = await extract(withNew, asked.model);
    expect(asked.requests).toHaveLength(1);
    expect(next.extracted_data.employees).toBe(1400);
    expect(next.read_pages).toHaveLength(3);
  });

  it('returns the previous record without calling the model when research found no sources', async () => {
    const { model, requests } = fakeModel({ fields: {} });
    const identity = { domain: 'northwind.example', pinned: true, other_entities: [], excluded_pages: 1 };
    const input = extractionInput({ sources: [], previous, research_notes: 'No search result mentioned Northwind Robotics.', identity });
    const result = await extract(input, model);
    expect(requests).toHaveLength(0);
    expect(result).toEqual({ ...previous, identity, rejected_fields: [], usage: input.usage });
  });
});
