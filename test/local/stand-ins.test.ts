import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { tavily } from '@tavily/core';
import { loadCorpus, type CorpusDocument } from '../../local/stand-ins/corpus';
import { coerceValue, matchField, parseFactLines } from '../../local/stand-ins/facts';
import { startTavilyStandIn } from '../../local/stand-ins/tavily-stand-in';
import { NO_FACTS_TEXT, startAnthropicStandIn } from '../../local/stand-ins/anthropic-stand-in';
import { createFaultInjector, faultsAtRate, type FaultRule, type StandIn } from '../../local/stand-ins/faults';
import { zeroUsage, type ExtractionSchema } from '../../lambdas/core/contracts';
import { extract as extractRecord } from '../../lambdas/core/extraction';
import { sameValuePrompt } from '../../lambdas/core/prompts';
import { SAME_VALUE_ANSWER } from '../../lambdas/core/structured-output';
import { createAnthropicModel } from '../../lambdas/providers/anthropic-model';

const TAVILY_KEY = 'tvly-local-test';
const ANTHROPIC_KEY = 'sk-ant-local-test';
const MODEL = 'claude-local-test';

const NORTHWIND_ABOUT = 'https://northwind-robotics.example/about';
const NORTHWIND_NEWS = 'https://news.example/northwind-series-d';

// Three invented companies; the news page repeats one fact and contradicts another on purpose.
const PAGES: Record<string, string> = {
  'northwind/about.md': `---
title: Northwind Robotics — About us
url: ${NORTHWIND_ABOUT}
---
Northwind Robotics builds autonomous robots for warehouses. Northwind Robotics was started in Lyon.

- Founded: 2011
- Headquarters: Lyon, France
- CEO: Claire Dubois
- Employees: 1,250
- Products: PickBot, ShelfScan, FleetOS
- Total funding: $1.2 billion
- Website: https://northwind-robotics.example
`,
  'northwind/news.md': `---
title: "Northwind Robotics raises its Series D"
url: ${NORTHWIND_NEWS}
---
Warehouse robot maker Northwind Robotics closed a new round this week, the company said.

- Total funding: $1.2 billion
- Employees: 1,400
`,
  'bluefin.md': `# Bluefin Analytics

Bluefin Analytics sells ocean data to shipping firms.

- Founded: 2016
- Headquarters: Halifax, Canada
- Employees: 85
`,
  'misc/kettle.txt': `---
title: Copperkettle Foods
url: https://copperkettle.example/
---
Copperkettle Foods bakes bread in Cork.

- Founded: 1998
`,
  'misc/notes.json': '{"not": "a page"}',
  'empty.md': '',
};

let corpusDir: string;
let documents: CorpusDocument[];
const servers: StandIn[] = [];

async function tavilyServer(faults?: FaultRule[]) {
  const server = await startTavilyStandIn({ documents, apiKey: TAVILY_KEY, ...(faults ? { faults } : {}) });
  servers.push(server);
  return { server, client: tavily({ apiKey: TAVILY_KEY, apiBaseURL: server.url }) };
}

async function anthropicServer(faults?: FaultRule[]) {
  const server = await startAnthropicStandIn({ apiKey: ANTHROPIC_KEY, ...(faults ? { faults } : {}) });
  servers.push(server);
  return { server, client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.url, maxRetries: 0 }) };
}

function sourceBlocks(docs: CorpusDocument[]): string {
  return docs.map((d, i) => `<source id="${i + 1}" url="${d.url}" title="${d.title}">\n${d.content}\n</source>`).join('\n');
}

function doc(url: string): CorpusDocument {
  const found = documents.find((d) => d.url === url);
  if (!found) throw new Error(`no document ${url}`);
  return found;
}

async function writeNotes(client: Anthropic, sources: CorpusDocument[]) {
  const message = await client.messages.create({
    model: MODEL,
    max_tokens: 1024,
    system: 'You write research notes.',
    messages: [{ role: 'user', content: `Company: Northwind Robotics\n\nSources:\n${sourceBlocks(sources)}` }],
  });
  const block = message.content[0];
  return { message, text: block?.type === 'text' ? block.text : '' };
}

const toolSchema = (data: Record<string, unknown>) => ({
  type: 'object' as const,
  properties: {
    data: { type: 'object', properties: data },
    field_sources: { type: 'object', additionalProperties: { type: 'string' } },
    confidence_score: { type: 'number' },
  },
  required: ['data', 'field_sources', 'confidence_score'],
});

async function extract(client: Anthropic, userText: string, data: Record<string, unknown>) {
  const message = await client.messages.create({
    model: MODEL,
    max_tokens: 2048,
    messages: [{ role: 'user', content: userText }],
    tools: [{ name: 'record_company_data', input_schema: toolSchema(data) }],
    tool_choice: { type: 'tool', name: 'record_company_data' },
  });
  const call = message.content.find((b) => b.type === 'tool_use');
  if (!call || call.type !== 'tool_use') throw new Error('no tool_use block');
  return { message, call, input: call.input as { data: Record<string, unknown>; field_sources: Record<string, string>; confidence_score: number } };
}

beforeAll(() => {
  corpusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dossier-stand-ins-'));
  for (const [name, text] of Object.entries(PAGES)) {
    fs.mkdirSync(path.dirname(path.join(corpusDir, name)), { recursive: true });
    fs.writeFileSync(path.join(corpusDir, name), text);
  }
  documents = loadCorpus(corpusDir);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(corpusDir, { recursive: true, force: true });
});

describe('loadCorpus', () => {
  it('reads .md and .txt pages recursively in path order, with front matter and defaults', () => {
    expect(documents.map((d) => d.title)).toEqual([
      'Bluefin Analytics',
      'Copperkettle Foods',
      'Northwind Robotics — About us',
      'Northwind Robotics raises its Series D',
    ]);
    const bluefin = documents[0]!;
    expect(bluefin.url).toBe(pathToFileURL(path.join(corpusDir, 'bluefin.md')).href);
    expect(bluefin.content.startsWith('# Bluefin Analytics')).toBe(true);
    const about = doc(NORTHWIND_ABOUT);
    expect(about.content).not.toContain('---');
    expect(about.content).toContain('- Employees: 1,250');
  });

  it('throws a clear error for a missing folder or one without pages', () => {
    expect(() => loadCorpus(path.join(corpusDir, 'nope'))).toThrow(/not found/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'dossier-empty-'));
    try {
      fs.writeFileSync(path.join(empty, 'readme.json'), '{}');
      expect(() => loadCorpus(empty)).toThrow(/no documents/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('Tavily stand-in through @tavily/core', () => {
  it('ranks the pages naming the company first and leaves out unrelated pages', async () => {
    const { server, client } = await tavilyServer();
    const response = await client.search('Northwind Robotics', { maxResults: 5, searchDepth: 'basic' });
    expect(response.results.map((r) => r.url).sort()).toEqual([NORTHWIND_NEWS, NORTHWIND_ABOUT].sort());
    expect(response.results[0]!.score).toBe(1);
    for (const r of response.results) expect(r.score).toBeGreaterThan(0);
    expect(response.results.find((r) => r.url === NORTHWIND_ABOUT)!.content).toContain('- Founded: 2011');
    expect(server.requests).toBe(1);

    const bluefin = await client.search('Bluefin Analytics headquarters', { maxResults: 1 });
    expect(bluefin.results).toHaveLength(1);
    expect(bluefin.results[0]!.title).toBe('Bluefin Analytics');

    const nothing = await client.search('Zanzibar quantum lemonade');
    expect(nothing.results).toEqual([]);
  });

  it('rejects a wrong API key', async () => {
    const { server } = await tavilyServer();
    const wrong = tavily({ apiKey: 'tvly-wrong', apiBaseURL: server.url });
    await expect(wrong.search('Northwind Robotics')).rejects.toThrow(/unauthorized/i);
  });

  it('stops answering once closed, and close() may be called again', async () => {
    const { server, client } = await tavilyServer();
    await server.close();
    await server.close();
    await expect(client.search('Northwind Robotics')).rejects.toThrow();
  });

  it('fails searches that match a fault rule, and only `times` of them', async () => {
    const { client } = await tavilyServer([
      { match: 'bluefin', status: 500 },
      { match: 'northwind', status: 429, times: 1 },
    ]);
    await expect(client.search('Bluefin Analytics')).rejects.toThrow(/500/);
    await expect(client.search('BLUEFIN')).rejects.toThrow(/500/);
    await expect(client.search('Northwind Robotics')).rejects.toThrow(/429/);
    const retried = await client.search('Northwind Robotics');
    expect(retried.results.length).toBeGreaterThan(0);
  });
});

describe('Anthropic stand-in through @anthropic-ai/sdk', () => {
  it('writes notes from every fact line, citing the sources that state it', async () => {
    const { client } = await anthropicServer();
    const { message, text } = await writeNotes(client, [doc(NORTHWIND_ABOUT), doc(NORTHWIND_NEWS)]);
    expect(message.model).toBe(MODEL);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage.input_tokens).toBeGreaterThan(50);
    expect(message.usage.output_tokens).toBeGreaterThan(10);
    expect(text.split('\n')).toEqual([
      '- Founded: 2011 [1]',
      '- Headquarters: Lyon, France [1]',
      '- CEO: Claire Dubois [1]',
      '- Employees: 1,250 [1]',
      '- Products: PickBot, ShelfScan, FleetOS [1]',
      '- Total funding: $1.2 billion [1][2]',
      '- Website: https://northwind-robotics.example [1]',
      '- Employees: 1,400 [2]',
    ]);
  });

  it('says so when the sources hold no facts', async () => {
    const { client } = await anthropicServer();
    expect((await writeNotes(client, [])).text).toBe(NO_FACTS_TEXT);
  });

  it('extracts typed fields with sources, leaves unknown fields out, and doubts conflicting notes', async () => {
    const { client } = await anthropicServer();
    const sources = [doc(NORTHWIND_ABOUT), doc(NORTHWIND_NEWS)];
    const { text: notes } = await writeNotes(client, sources);
    const userText = `Company: Northwind Robotics\n\nResearch notes:\n${notes}\n\nSources:\n[1] ${NORTHWIND_ABOUT}\n[2] ${NORTHWIND_NEWS}`;
    const { message, call, input } = await extract(client, userText, {
      founded_year: { type: 'integer', description: 'Year the company was founded' },
      employee_count: { type: 'integer', description: 'Number of employees' },
      total_funding_usd: { type: 'number', description: 'Total funding raised, in US dollars' },
      products: { type: 'array', items: { type: 'string' }, description: 'Main products or services' },
      ceo: { type: 'string', description: 'Name of the chief executive officer (CEO)' },
      stock_ticker: { type: 'string', description: 'Stock exchange ticker symbol' },
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(call.name).toBe('record_company_data');
    expect(call.id).toMatch(/^toolu_/);
    expect(input.data).toEqual({
      founded_year: 2011,
      employee_count: 1250,
      total_funding_usd: 1_200_000_000,
      products: ['PickBot', 'ShelfScan', 'FleetOS'],
      ceo: 'Claire Dubois',
    });
    expect('stock_ticker' in input.data).toBe(false);
    expect(input.field_sources).toEqual({
      founded_year: NORTHWIND_ABOUT,
      employee_count: NORTHWIND_ABOUT,
      total_funding_usd: NORTHWIND_ABOUT,
      products: NORTHWIND_ABOUT,
      ceo: NORTHWIND_ABOUT,
    });
    // Employees disagree (1,250 vs 1,400): the conflict lowers confidence.
    expect(input.confidence_score).toBe(0.6);

    const agreeing = await extract(client, userText.replace('- Employees: 1,400 [2]\n', ''), {
      employee_count: { type: 'integer' },
      ceo: { type: 'string' },
    });
    expect(agreeing.input.data).toEqual({ employee_count: 1250, ceo: 'Claire Dubois' });
    expect(agreeing.input.confidence_score).toBe(0.95);
    expect(agreeing.input.confidence_score).toBeGreaterThan(input.confidence_score);
  });

  it('gives nothing and zero confidence when the notes hold no facts', async () => {
    const { client } = await anthropicServer();
    const { input } = await extract(client, `Research notes:\n${NO_FACTS_TEXT}`, { ceo: { type: 'string' } });
    expect(input).toEqual({ data: {}, field_sources: {}, confidence_score: 0 });
  });

  it('rejects a tool schema without `data`, and a wrong API key', async () => {
    const { server, client } = await anthropicServer();
    const badTool = client.messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: '- CEO: Claire Dubois [1]' }],
      tools: [{ name: 'other', input_schema: { type: 'object', properties: { ceo: { type: 'string' } } } }],
      tool_choice: { type: 'tool', name: 'other' },
    });
    await expect(badTool).rejects.toMatchObject({ status: 400, type: 'invalid_request_error' });

    const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: server.url, maxRetries: 0 });
    await expect(writeNotes(wrong, [])).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('fails requests that match a fault rule: always, or `times` times', async () => {
    const { server, client } = await anthropicServer([
      { match: 'Bluefin', status: 529 },
      { match: 'northwind', status: 429, times: 1 },
    ]);
    const bluefinNotes = () => writeNotes(client, [documents[0]!]);
    await expect(bluefinNotes()).rejects.toMatchObject({ status: 529 });
    await expect(bluefinNotes()).rejects.toMatchObject({ status: 529 });

    const northwind = () => writeNotes(client, [doc(NORTHWIND_ABOUT)]);
    const throttled = northwind();
    await expect(throttled).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    await expect(throttled).rejects.toMatchObject({ headers: expect.anything() });
    expect((await northwind()).text).toContain('- CEO: Claire Dubois [1]');
    expect(server.requests).toBe(4);
  });

  it('lets the SDK retry an injected 429 by itself, and asks it to wait only 1 ms', async () => {
    const server = await startAnthropicStandIn({ apiKey: ANTHROPIC_KEY, faults: [{ match: 'northwind', status: 429, times: 2 }] });
    servers.push(server);
    const raw = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ANTHROPIC_KEY },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Northwind' }] }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('0');
    expect(raw.headers.get('retry-after-ms')).toBe('1');
    expect(await raw.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    const client = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.url, maxRetries: 1 });
    expect((await writeNotes(client, [doc(NORTHWIND_ABOUT)])).text).toContain('- Founded: 2011 [1]');
    expect(server.requests).toBe(3);
  });
});

describe('the stand-in model reading pages for evidence', () => {
  const KESTREL = 'https://kestrel.example/about';
  const PRESS = 'https://press.example/kestrel';
  const pages = [
    {
      id: 1,
      url: KESTREL,
      title: 'About',
      content: 'Kestrel builds wind sensors.\n\nHeadquarters: Aarhus, Denmark\n\n- Founded: 12 March 1996\n- Ownership: Privately held\n- Products: A1, A2, A3, A4\n- Employees (2021): 150',
    },
    { id: 2, url: PRESS, title: 'Press', content: 'Kestrel grew fast.\n\n- Employees (2024): 210\n- Founded: 1997' },
  ];
  const schema: ExtractionSchema = {
    type: 'object',
    properties: {
      founded_on: { type: 'string', format: 'date' },
      founded: { type: 'integer', description: 'When it started' },
      headquarters: { type: 'object', properties: { city: { type: 'string' }, country: { type: 'string' } } },
      ownership: { type: 'string', enum: ['private', 'public'] },
      products: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      employees: { type: 'integer' },
      ticker: { type: 'string' },
    },
  };

  async function extractWithStandIn(extraction_schema: ExtractionSchema) {
    const server = await startAnthropicStandIn({ apiKey: ANTHROPIC_KEY });
    servers.push(server);
    const model = createAnthropicModel({ apiKey: ANTHROPIC_KEY, model: MODEL, baseUrl: server.url, maxRetries: 0 });
    return extractRecord(
      { company_name: 'Kestrel', extraction_schema, research_notes: '- Founded: 12 March 1996 [1]', sources: pages, model: 'large', usage: zeroUsage() },
      model,
    );
  }

  it('fills a nested object, a date, a year from a date, an enum and a capped list, quoting each page verbatim', async () => {
    const output = await extractWithStandIn(schema);
    expect(output.extracted_data).toEqual({
      founded_on: '1996-03-12',
      founded: 1996,
      headquarters: { city: 'Aarhus', country: 'Denmark' },
      ownership: 'private',
      products: ['A1', 'A2', 'A3'],
      employees: 210,
    });
    expect(output.evidence.headquarters).toEqual([{ url: KESTREL, title: 'About', excerpt: 'Headquarters: Aarhus, Denmark' }]);
    // The newer of two dated statements; the older one, and the other page's founding year, as conflicts.
    expect(output.evidence.employees).toEqual([{ url: PRESS, title: 'Press', excerpt: 'Employees (2024): 210' }]);
    expect(output.conflicts).toEqual(
      expect.arrayContaining([
        { field: 'employees', value: '150', url: KESTREL, title: 'About', excerpt: 'Employees (2021): 150' },
        { field: 'founded', value: '1997', url: PRESS, title: 'Press', excerpt: 'Founded: 1997' },
      ]),
    );
    expect(output.rejected_fields).toEqual([]);
    expect(output.usage.llm[MODEL]!.input_tokens).toBeGreaterThan(0);
  });

  it('answers a forced tool call in the same shape when the schema needs one', async () => {
    const withMap: ExtractionSchema = { ...schema, properties: { ...schema.properties, offices: { type: 'object', additionalProperties: { type: 'string' } } } };
    const output = await extractWithStandIn(withMap);
    expect(output.extracted_data).toMatchObject({ founded_on: '1996-03-12', products: ['A1', 'A2', 'A3'], headquarters: { city: 'Aarhus' } });
  });

  it('answers structured outputs as JSON text, and judges whether two statements give the same value', async () => {
    const { client } = await anthropicServer();
    const pairs = [
      { field: 'ceo', first: 'Joris van Heemstede', second: 'J. van Heemstede' },
      { field: 'ceo', first: 'Joris van Heemstede', second: 'Anna Berg' },
    ];
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 200,
      messages: [{ role: 'user', content: sameValuePrompt('Kestrel', pairs) }],
      output_config: { format: { type: 'json_schema', schema: SAME_VALUE_ANSWER } },
    });
    const block = message.content[0];
    expect(message.stop_reason).toBe('end_turn');
    expect(block?.type === 'text' && JSON.parse(block.text)).toEqual({
      verdicts: [
        { pair: 1, same_value: true },
        { pair: 2, same_value: false },
      ],
    });
  });
});

describe('parseFactLines', () => {
  it('reads labels, values and citations, and skips prose', () => {
    const text = [
      'Some prose: not a fact.',
      '- Founded: 2011 [2]',
      '- Total funding: $85 million [1][3]',
      '* **CEO:** Claire Dubois',
      '- Website: https://northwind-robotics.example',
      '- a plain bullet',
      '- [1] https://example.com',
    ].join('\n');
    expect(parseFactLines(text)).toEqual([
      { label: 'Founded', value: '2011', citations: [2] },
      { label: 'Total funding', value: '$85 million', citations: [1, 3] },
      { label: 'CEO', value: 'Claire Dubois', citations: [] },
      { label: 'Website', value: 'https://northwind-robotics.example', citations: [] },
    ]);
  });
});

describe('matchField', () => {
  const labels = ['Description', 'Founded', 'Headquarters', 'Industry', 'Website', 'CEO', 'Employees', 'Products', 'Total funding'];

  it.each([
    ['founded_year', 'Year the company was founded', 'Founded'],
    ['headquarters', 'City and country of the headquarters', 'Headquarters'],
    ['ceo', 'Name of the chief executive officer (CEO)', 'CEO'],
    ['employee_count', 'Number of employees', 'Employees'],
    ['industry', 'Primary industry', 'Industry'],
    ['products', 'Main products or services', 'Products'],
    ['total_funding_usd', 'Total funding raised, in US dollars', 'Total funding'],
    ['website', 'Official website URL', 'Website'],
    ['description', 'One-sentence description of what the company does', 'Description'],
  ])('maps %s onto %s', (name, description, expected) => {
    expect(matchField(name, description, labels)).toBe(expected);
  });

  it('uses synonyms and plurals', () => {
    expect(matchField('ceo', '', ['Chief Executive'])).toBe('Chief Executive');
    expect(matchField('headquarters', '', ['Founded', 'Based in'])).toBe('Based in');
    expect(matchField('hq_city', '', ['Head office'])).toBe('Head office');
    expect(matchField('employees', '', ['Headcount'])).toBe('Headcount');
    expect(matchField('founded_year', '', ['Year established'])).toBe('Year established');
    expect(matchField('funding', '', ['Capital raised'])).toBe('Capital raised');
    expect(matchField('homepage', '', ['Website'])).toBe('Website');
    expect(matchField('services', '', ['Product'])).toBe('Product');
    expect(matchField('summary', '', ['About'])).toBe('About');
    expect(matchField('total_funding_usd', '', ['Funding rounds', 'Total funding'])).toBe('Total funding');
  });

  it('returns undefined when nothing plausible matches', () => {
    expect(matchField('stock_ticker', 'Stock exchange ticker symbol', labels)).toBeUndefined();
    expect(matchField('company_name', 'Name of the company', ['Company', 'Name', 'Number of the company'])).toBeUndefined();
    expect(matchField('ceo', 'Name of the chief executive officer', ['Chief Operating Officer'])).toBeUndefined();
    expect(matchField('founded_year', 'Year founded', ['Founders'])).toBeUndefined();
    expect(matchField('ceo', undefined, [])).toBeUndefined();
  });
});

describe('coerceValue', () => {
  it('parses numbers written the way pages write them', () => {
    expect(coerceValue('1,250', { type: 'integer' })).toBe(1250);
    expect(coerceValue('420', { type: 'integer' })).toBe(420);
    expect(coerceValue('2011', { type: 'integer' })).toBe(2011);
    expect(coerceValue('$85 million', { type: 'number' })).toBe(85_000_000);
    expect(coerceValue('$1.2 billion', { type: 'number' })).toBe(1_200_000_000);
    expect(coerceValue('USD 40,000,000', { type: 'number' })).toBe(40_000_000);
    expect(coerceValue('about 2.6 thousand', { type: 'integer' })).toBe(2600);
    expect(coerceValue('12.7', { type: 'integer' })).toBe(13);
    expect(coerceValue('12 March 2011', { type: 'integer', description: 'Year the company was founded' })).toBe(2011);
    expect(coerceValue('Lyon, France', { type: 'integer' })).toBeUndefined();
  });

  it('splits lists, trims strings and reads booleans', () => {
    expect(coerceValue('A, B, C', { type: 'array', items: { type: 'string' } })).toEqual(['A', 'B', 'C']);
    expect(coerceValue('PickBot; ShelfScan and more, and FleetOS', { type: 'array' })).toEqual(['PickBot', 'ShelfScan and more', 'FleetOS']);
    expect(coerceValue('  Claire Dubois ', { type: 'string' })).toBe('Claire Dubois');
    expect(coerceValue('Claire Dubois', { type: ['string', 'null'] })).toBe('Claire Dubois');
    expect(coerceValue('Yes', { type: 'boolean' })).toBe(true);
    expect(coerceValue('false', { type: 'boolean' })).toBe(false);
    expect(coerceValue('maybe', { type: 'boolean' })).toBeUndefined();
    expect(coerceValue('   ', { type: 'string' })).toBeUndefined();
    expect(coerceValue('{"a":1}', { type: 'object' })).toBeUndefined();
  });

  it('keeps uri fields valid', () => {
    expect(coerceValue('northwind-robotics.example', { type: 'string', format: 'uri' })).toBe('https://northwind-robotics.example');
    expect(coerceValue('https://x.example/about', { type: 'string', format: 'uri' })).toBe('https://x.example/about');
    expect(coerceValue('Lyon', { type: 'string', format: 'uri' })).toBeUndefined();
  });
});

describe('faults at a rate', () => {
  const draws = (...values: number[]) => () => values.shift() ?? 1;

  it('fires a rule with a rate only when the draw falls under it', () => {
    const injector = createFaultInjector([{ match: 'northwind', status: 503, rate: 0.25 }], draws(0.3, 0.2, 0.1));
    expect(injector.take('{"query":"Northwind Robotics"}')).toBeUndefined();
    expect(injector.take('{"query":"Northwind Robotics"}')?.status).toBe(503);
    // A body the rule does not match draws nothing.
    expect(injector.take('{"query":"Bluefin"}')).toBeUndefined();
    expect(injector.take('{"query":"Northwind Robotics"}')?.status).toBe(503);
  });

  it('splits a total rate evenly between rate limits and server errors, on every request', () => {
    expect(faultsAtRate(0)).toEqual([]);
    const [throttle, outage] = faultsAtRate(0.1);
    expect(throttle).toEqual({ match: '', status: 429, rate: 0.05 });
    expect(outage!.status).toBe(500);
    // 0.05 of all requests reach the second rule's share: 0.95 × its rate.
    expect((1 - throttle!.rate!) * outage!.rate!).toBeCloseTo(0.05, 10);
    const injector = createFaultInjector(faultsAtRate(0.1), draws(0.04, 0.5, 0.04));
    expect(injector.take('{}')?.status).toBe(429);
    expect(injector.take('{}')?.status).toBe(500);
  });
});
