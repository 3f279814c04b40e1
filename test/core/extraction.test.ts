import { describe, expect, it } from 'vitest';
import type { ExtractedRecord, ExtractionInput, ExtractionSchema } from '../../lambdas/core/contracts';
import { extract } from '../../lambdas/core/extraction';
import { fakeModel } from '../support/fake-model';

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

const notes = `- Founded: 2011 [1]\n- Headquarters: Lyon [1]\n- Employees: 1,250 [2]\n\nSources:\n[1] ${ABOUT}\n[2] ${NEWS}`;

function extractionInput(overrides: Partial<ExtractionInput> = {}): ExtractionInput {
  return {
    company_name: 'Northwind Robotics',
    extraction_schema: schema,
    research_notes: notes,
    model: 'large',
    sources: [
      { url: ABOUT, title: 'About' },
      { url: NEWS, title: 'News' },
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


describe('extract', () => {
  it('keeps valid, cited fields and adds the call to the usage', async () => {
    const { model } = fakeModel({
      data: { founded: 2011, headquarters: 'Lyon' },
      field_sources: { founded: ABOUT, headquarters: ABOUT },
      confidence_score: 0.9,
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({ founded: 2011, headquarters: 'Lyon' });
    expect(result.field_sources).toEqual({ founded: ABOUT, headquarters: ABOUT });
    expect(result.confidence_score).toBe(0.9);
    expect(result.rejected_fields).toEqual([]);
    expect(result.usage).toEqual({
      search_queries: 3,
      search_credits: 3,
      llm: { 'fake-model': { input_tokens: 1300, output_tokens: 170, cache_write_tokens: 0, cache_read_tokens: 0 } },
      lambda_gb_seconds: 0.5,
    });
  });

  it('rejects values of the wrong type or out of range, and says which', async () => {
    const { model } = fakeModel({
      data: { founded: 1700, headquarters: 'Lyon', employees: '1,250' },
      field_sources: { founded: ABOUT, headquarters: ABOUT, employees: NEWS },
      confidence_score: 0.8,
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({ headquarters: 'Lyon' });
    expect(result.field_sources).toEqual({ headquarters: ABOUT });
    expect(result.rejected_fields.map((r) => r.field).sort()).toEqual(['employees', 'founded']);
    const reasons = Object.fromEntries(result.rejected_fields.map((r) => [r.field, r.reason]));
    expect(reasons.founded).toMatch(/>= 1800/);
    expect(reasons.employees).toMatch(/integer/);
  });

  it('drops fields the schema does not ask for', async () => {
    const { model } = fakeModel({
      data: { headquarters: 'Lyon', stock_ticker: 'NWR' },
      field_sources: { headquarters: ABOUT, stock_ticker: NEWS },
      confidence_score: 0.9,
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data).toEqual({ headquarters: 'Lyon' });
    expect(result.field_sources).not.toHaveProperty('stock_ticker');
  });

  it('keeps the value but not a source URL research never read', async () => {
    const { model } = fakeModel({
      data: { founded: 2011, headquarters: 'Lyon' },
      field_sources: { founded: 'https://invented.example/page', headquarters: ABOUT },
      confidence_score: 0.9,
    });
    const result = await extract(extractionInput(), model);
    expect(result.extracted_data.founded).toBe(2011);
    expect(result.field_sources).toEqual({ headquarters: ABOUT });
  });

  it('takes the cited URLs from the notes when no source list is given', async () => {
    const { model } = fakeModel({
      data: { founded: 2011, employees: 1250 },
      field_sources: { founded: ABOUT, employees: 'https://elsewhere.example' },
      confidence_score: 0.9,
    });
    const result = await extract(extractionInput({ sources: undefined }), model);
    expect(result.field_sources).toEqual({ founded: ABOUT });
  });

  it('keeps earlier values, fills the gaps, and weighs confidence by fields contributed', async () => {
    const previous: ExtractedRecord = {
      extracted_data: { founded: 2011, headquarters: 'Lyon' },
      field_sources: { founded: ABOUT, headquarters: ABOUT },
      confidence_score: 0.9,
    };
    const { model } = fakeModel({
      data: { founded: 2012, employees: 1250 },
      field_sources: { founded: NEWS, employees: NEWS },
      confidence_score: 0.6,
    });
    const result = await extract(extractionInput({ previous }), model);
    expect(result.extracted_data).toEqual({ founded: 2011, headquarters: 'Lyon', employees: 1250 });
    expect(result.field_sources).toEqual({ founded: ABOUT, headquarters: ABOUT, employees: NEWS });
    // Two fields at 0.9, one new at 0.6.
    expect(result.confidence_score).toBe(0.8);
  });

  it('leaves the confidence alone when a round adds nothing', async () => {
    const previous: ExtractedRecord = { extracted_data: { founded: 2011 }, field_sources: { founded: ABOUT }, confidence_score: 0.85 };
    const { model } = fakeModel({ data: {}, field_sources: {}, confidence_score: 0.1 });
    const result = await extract(extractionInput({ previous }), model);
    expect(result.extracted_data).toEqual({ founded: 2011 });
    expect(result.confidence_score).toBe(0.85);
  });

  it('returns the previous record without calling the model when research found no sources', async () => {
    const previous: ExtractedRecord = { extracted_data: { founded: 2011 }, field_sources: { founded: ABOUT }, confidence_score: 0.7 };
    const { model, requests } = fakeModel({ data: { headquarters: 'Lyon' }, field_sources: {}, confidence_score: 1 });
    const input = extractionInput({ sources: [], previous, research_notes: 'No search result mentioned Northwind Robotics.' });
    const result = await extract(input, model);
    expect(requests).toHaveLength(0);
    expect(result).toEqual({ ...previous, rejected_fields: [], usage: input.usage });
  });

  it('reports an answer without a data object instead of failing', async () => {
    const previous: ExtractedRecord = { extracted_data: { founded: 2011 }, field_sources: {}, confidence_score: 0.7 };
    const { model } = fakeModel({ data: 'Lyon, 2011' });
    const result = await extract(extractionInput({ previous }), model);
    expect(result.extracted_data).toEqual({ founded: 2011 });
    expect(result.rejected_fields).toEqual([{ field: '(answer)', reason: expect.any(String) }]);
  });

  it("offers the model the schema's fields without making any of them required", async () => {
    const { model, requests } = fakeModel({ data: {}, field_sources: {}, confidence_score: 0 });
    await extract(extractionInput(), model);
    const tool = requests[0]!.inputSchema as { properties: { data: Record<string, unknown> } };
    expect(tool.properties.data.properties).toEqual(schema.properties);
    expect(tool.properties.data).not.toHaveProperty('required');
    expect(requests[0]!.prompt).toContain('Northwind Robotics');
    expect(requests[0]!.prompt).toContain(notes);
  });
});
