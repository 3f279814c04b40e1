/**
 * What the Anthropic stand-in bills: token counts from the sizes of the actual request and reply, the tool-use
 * system prompt, and the prompt cache (writes, reads, the minimum length, the five-minute life), read through
 * @anthropic-ai/sdk and through Dossier's adapter.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../lambdas/providers/anthropic-model';
import { startAnthropicStandIn } from '../../local/stand-ins/anthropic-stand-in';
import type { StandIn } from '../../local/stand-ins/faults';
import { CACHE_TTL_MS, minimumCacheableTokens } from '../../local/stand-ins/token-accounting';

const KEY = 'sk-ant-usage-test';
const servers: StandIn[] = [];

/** A stand-in whose cache clock the test moves by hand. */
async function standIn() {
  let clock = 1_000_000;
  const server = await startAnthropicStandIn({ apiKey: KEY, now: () => clock });
  servers.push(server);
  return {
    server,
    client: new Anthropic({ apiKey: KEY, baseURL: server.url, maxRetries: 0 }),
    model: (model: string) => createAnthropicModel({ apiKey: KEY, model, baseUrl: server.url, maxRetries: 0 }),
    advance: (ms: number) => (clock += ms),
  };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** `n` characters of text, in whole words. */
const text = (n: number) => 'lorem ipsum '.repeat(Math.ceil(n / 12)).slice(0, n);
const source = (id: number, facts: string[]) =>
  `<source id="${id}" url="https://acme.example/${id}" title="Acme ${id}">\nAcme page ${id}.\n${facts.map((f) => `- ${f}`).join('\n')}\n</source>`;

describe('token counts', () => {
  it('are the request and reply sizes at 4 characters a token', async () => {
    const { client } = await standIn();
    const message = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      system: 'S',
      messages: [{ role: 'user', content: text(4_000) }],
    });
    // 1 + 4,000 characters of input; the reply says it found nothing.
    expect(message.usage.input_tokens).toBe(1_001);
    const reply = message.content[0]!.type === 'text' ? message.content[0]!.text : '';
    expect(message.usage.output_tokens).toBe(Math.ceil(reply.length / 4));
    expect(message.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('grow with the request and with the reply', async () => {
    const { model } = await standIn();
    const notes = (sources: string[]) => model('claude-haiku-4-5').write({ system: 'Write notes.', prompt: `Company: Acme\n\nSources:\n${sources.join('\n')}`, maxTokens: 1_000 });
    const one = await notes([source(1, ['CEO: Jane Roe'])]);
    const three = await notes([source(1, ['CEO: Jane Roe']), source(2, ['Founded: 2001', 'Employees: 40']), source(3, ['Headquarters: Oslo, Norway'])]);
    expect(three.usage.input_tokens).toBeGreaterThan(one.usage.input_tokens);
    expect(three.usage.output_tokens).toBeGreaterThan(one.usage.output_tokens);
    expect(three.usage.model).toBe('claude-haiku-4-5');
  });

  it('include the tool-use system prompt when a tool is forced, as count_tokens does', async () => {
    const { client, server } = await standIn();
    const request = {
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: '- CEO: Jane Roe [1]' }],
      tools: [{ name: 'record_company_data', input_schema: { type: 'object' as const, properties: { data: { type: 'object', properties: { ceo: { type: 'string' } } } } } }],
      tool_choice: { type: 'tool' as const, name: 'record_company_data' },
    };
    const message = await client.messages.create(request);
    const toolChars = JSON.stringify(request.tools[0]).length;
    expect(message.usage.input_tokens).toBe(313 + Math.ceil((toolChars + '- CEO: Jane Roe [1]'.length) / 4));
    const counted = await fetch(`${server.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify(request),
    });
    expect(await counted.json()).toEqual({ input_tokens: message.usage.input_tokens });
  });

  it('answer a structured-output request (output_config.format) with JSON that follows the schema', async () => {
    const { client } = await standIn();
    const schema = {
      type: 'object',
      properties: { data: { type: 'object', properties: { ceo: { type: 'string' }, founded_year: { type: 'integer' } } }, confidence_score: { type: 'number' } },
      required: ['data', 'confidence_score'],
      additionalProperties: false,
    };
    const message = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 500,
      messages: [{ role: 'user', content: 'Research notes:\n- CEO: Jane Roe [1]\n- Founded: 2001 [1]\n\nSources:\n[1] https://acme.example/1' }],
      output_config: { format: { type: 'json_schema', schema } },
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.stop_reason).toBe('end_turn');
    const block = message.content[0]!;
    expect(block.type).toBe('text');
    expect(JSON.parse(block.type === 'text' ? block.text : '')).toEqual({ data: { ceo: 'Jane Roe', founded_year: 2001 }, confidence_score: 0.95 });
    expect(message.usage.output_tokens).toBe(Math.ceil((block.type === 'text' ? block.text : '').length / 4));
  });
});

describe('the prompt cache', () => {
  // Instructions and schema long enough to cache on Sonnet (1,024 tokens) but not on Haiku 4.5 (4,096).
  const longSystem = text(5_000);
  const call = (m: ReturnType<Awaited<ReturnType<typeof standIn>>['model']>, prompt: string, system = longSystem) =>
    m.write({ system, prompt, maxTokens: 200 });

  it('writes the shared prefix on first use, then reads it; the other input is billed as usual', async () => {
    const { model } = await standIn();
    const sonnet = model('claude-sonnet-4-6');
    const first = await call(sonnet, 'Company: Acme');
    const second = await call(sonnet, 'Company: Bluefin Analytics, a longer name');
    const prefix = Math.ceil(longSystem.length / 4);
    expect(first.usage).toMatchObject({ cache_write_tokens: prefix, cache_read_tokens: 0 });
    expect(second.usage).toMatchObject({ cache_write_tokens: 0, cache_read_tokens: prefix });
    // The company's own part is what is left of each request.
    expect(first.usage.input_tokens).toBe(Math.ceil((longSystem.length + 'Company: Acme'.length) / 4) - prefix);
    expect(second.usage.input_tokens).toBeGreaterThan(first.usage.input_tokens);
  });

  it('caches nothing below the model\'s minimum, and says so only by its zeros', async () => {
    expect(minimumCacheableTokens('claude-sonnet-4-6')).toBe(1_024);
    expect(minimumCacheableTokens('claude-haiku-4-5')).toBe(4_096);
    const { model } = await standIn();
    const haiku = model('claude-haiku-4-5');
    for (const prompt of ['Company: Acme', 'Company: Acme']) {
      const { usage } = await call(haiku, prompt);
      expect(usage).toMatchObject({ cache_write_tokens: 0, cache_read_tokens: 0 });
      expect(usage.input_tokens).toBe(Math.ceil((longSystem.length + prompt.length) / 4));
    }
    const short = model('claude-sonnet-4-6');
    expect((await call(short, 'Company: Acme', 'Short instructions.')).usage).toMatchObject({ cache_write_tokens: 0, cache_read_tokens: 0 });
    expect((await call(short, 'Company: Acme', 'Short instructions.')).usage).toMatchObject({ cache_write_tokens: 0, cache_read_tokens: 0 });
  });

  it('keeps a prefix per model and per exact text', async () => {
    const { model } = await standIn();
    await call(model('claude-sonnet-4-6'), 'Company: Acme');
    // Another model has its own cache; a changed prefix is a new one.
    expect((await call(model('claude-opus-4-1'), 'Company: Acme')).usage.cache_write_tokens).toBeGreaterThan(0);
    expect((await call(model('claude-sonnet-4-6'), 'Company: Acme', `${longSystem}!`)).usage.cache_write_tokens).toBeGreaterThan(0);
  });

  it('forgets a prefix unused for five minutes; each read renews it', async () => {
    const { model, advance } = await standIn();
    const sonnet = model('claude-sonnet-4-6');
    await call(sonnet, 'Company: Acme');
    advance(CACHE_TTL_MS - 1);
    expect((await call(sonnet, 'Company: Acme')).usage.cache_read_tokens).toBeGreaterThan(0);
    advance(CACHE_TTL_MS - 1);
    expect((await call(sonnet, 'Company: Acme')).usage.cache_read_tokens).toBeGreaterThan(0);
    advance(CACHE_TTL_MS);
    expect((await call(sonnet, 'Company: Acme')).usage).toMatchObject({ cache_read_tokens: 0, cache_write_tokens: Math.ceil(longSystem.length / 4) });
  });

  it('caches a forced tool with the system prompt after it: the tools come first in the prefix', async () => {
    const { model } = await standIn();
    const sonnet = model('claude-sonnet-4-6');
    const request = (prompt: string) => ({
      system: 'Extract the fields.',
      prompt,
      maxTokens: 300,
      toolName: 'record_company_data',
      toolDescription: 'Record the fields.',
      inputSchema: { type: 'object', properties: { data: { type: 'object', properties: { ceo: { type: 'string', description: text(4_500) } } } } },
    });
    const first = await sonnet.structured(request('Research notes:\n- CEO: Jane Roe [1]'));
    const second = await sonnet.structured(request('Research notes:\n- CEO: John Doe [1]'));
    expect(first.usage.cache_write_tokens).toBeGreaterThan(1_024);
    expect(second.usage.cache_read_tokens).toBe(first.usage.cache_write_tokens);
    expect(second.value).toMatchObject({ data: { ceo: 'John Doe' } });
  });
});
