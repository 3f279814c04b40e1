/**
 * A local server that answers @anthropic-ai/sdk's messages.create with a deterministic "model":
 * research notes are the sources' `- Label: value` lines with citations; a structured answer (structured outputs or a
 * forced tool call) is read from the pages in the prompt by stand-in-reader.ts, or, for the older `data` shape, mapped
 * from note labels onto the tool's schema. Same request, same answer, no network.
 */
import { randomBytes } from 'node:crypto';
import { coerceValue, matchField, parseFactLines, parseSources, type PropertySchema } from './facts';
import { answerStructured } from './stand-in-reader';
import { contentText, createPromptCache, estimateTokens } from './token-accounting';
import {
  createFaultInjector,
  jsonObject,
  isRecord,
  sendError,
  sendJson,
  serveLocally,
  type FaultRule,
  type StandIn,
} from './faults';
import type { StandInLimits } from './rate-limits';
import { answerInjectedFault, faultDiceOf, type FaultDice, type FaultRates } from './fault-rates';

export type { FaultRule, StandIn } from './faults';
export { parseSources } from './facts';

export type AnthropicStandInOptions = {
  apiKey?: string;
  faults?: FaultRule[];
  latencyMs?: number;
  /** The prompt cache's clock (tests move it to expire entries); Date.now by default. */
  now?: () => number;
  /** Its own rate limit, and 429s at a given rate (local/stand-ins/rate-limits.ts). */
  limits?: StandInLimits;
  /** Faults at rates, drawn from a seed (fault-rates.ts), besides the `faults` rules. */
  randomFaults?: FaultRates | FaultDice;
};

export const NO_FACTS_TEXT = 'No facts about the company were found in the search results.';

const normalise = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim();

/** The notes a careful analyst would write: every stated fact once, with every source that states it. */
export function writeResearchNotes(userText: string): string {
  const lines: { label: string; value: string; citations: number[] }[] = [];
  const byFact = new Map<string, (typeof lines)[number]>();
  for (const source of parseSources(userText)) {
    for (const fact of parseFactLines(source.content)) {
      const key = `${normalise(fact.label)}\u0000${normalise(fact.value)}`;
      const seen = byFact.get(key);
      if (seen) {
        if (!seen.citations.includes(source.id)) seen.citations.push(source.id);
        continue;
      }
      // Conflicting values get their own line, so the extraction can see the disagreement.
      const line = { label: fact.label, value: fact.value, citations: [source.id] };
      byFact.set(key, line);
      lines.push(line);
    }
  }
  if (lines.length === 0) return NO_FACTS_TEXT;
  return lines.map((l) => `- ${l.label}: ${l.value} ${l.citations.map((n) => `[${n}]`).join('')}`).join('\n');
}

/** `[n] https://…` lines: where each citation number points. */
export function parseSourceList(text: string): Map<number, string> {
  const urls = new Map<number, string>();
  for (const m of text.matchAll(/^[ \t]*(?:[-*][ \t]+)?\[(\d+)\][^\n]*?((?:https?|file):\/\/[^\s<>"\]]+)/gm)) {
    const n = Number(m[1]);
    if (m[2] !== undefined && !urls.has(n)) urls.set(n, m[2]);
  }
  return urls;
}


/**
 * Fills the forced tool's `data` from the notes. Returns an error message when the schema is not
 * the `{ data, field_sources, confidence_score }` shape Dossier sends.
 */
export function extractFromNotes(userText: string, inputSchema: unknown): { input: Record<string, unknown> } | { error: string } {
  const properties = isRecord(inputSchema) && isRecord(inputSchema.properties) ? inputSchema.properties : undefined;
  const dataSchema = properties?.data;
  if (!isRecord(dataSchema) || !isRecord(dataSchema.properties)) {
    return { error: 'The stand-in only answers a tool input_schema or output format whose schema has a `data` object with `properties`.' };
  }

  const facts = parseFactLines(userText);
  const sourceUrls = parseSourceList(userText);
  // Labels compared case- and space-insensitively: "Total funding" and "total  funding" are one label.
  const groups = new Map<string, typeof facts>();
  for (const fact of facts) {
    const key = normalise(fact.label);
    const group = groups.get(key);
    if (group) group.push(fact);
    else groups.set(key, [fact]);
  }
  const labels = [...groups.values()].map((g) => g[0]!.label);

  const data: Record<string, unknown> = {};
  const fieldSources: Record<string, string> = {};
  const fields = Object.entries(dataSchema.properties);
  let filled = 0;
  let conflicts = 0;
  for (const [name, raw] of fields) {
    const schema: PropertySchema = isRecord(raw) ? (raw as PropertySchema) : {};
    const description = typeof schema.description === 'string' ? schema.description : typeof schema.title === 'string' ? schema.title : '';
    const label = matchField(name, description, labels);
    const group = label === undefined ? undefined : groups.get(normalise(label));
    const first = group?.[0];
    if (!group || !first) continue;
    const value = coerceValue(first.value, schema);
    if (value === undefined) continue;
    data[name] = value;
    filled += 1;
    if (new Set(group.map((f) => normalise(f.value))).size > 1) conflicts += 1;
    const cited = first.citations[0] === undefined ? undefined : sourceUrls.get(first.citations[0]);
    if (cited) fieldSources[name] = cited;
  }

  // Confidence is about whether the values are right, not how many were found: completeness is scored elsewhere.
  const confidence = filled === 0 ? 0 : conflicts > 0 ? 0.6 : 0.95;
  const input: Record<string, unknown> = { data };
  // Only the keys the tool declares, as a schema-following model would.
  if (properties && 'field_sources' in properties) input.field_sources = fieldSources;
  if (properties && 'confidence_score' in properties) input.confidence_score = confidence;
  return { input };
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export function startAnthropicStandIn(opts: AnthropicStandInOptions = {}): Promise<StandIn> {
  const faults = createFaultInjector(opts.faults);
  const dice = faultDiceOf(opts.randomFaults);
  const cache = createPromptCache(opts.now);

  return serveLocally('anthropic', async (req, res, bodyText) => {
    const path = (req.url ?? '/').split('?')[0];
    const isCount = path === '/v1/messages/count_tokens';
    if (req.method !== 'POST' || (path !== '/v1/messages' && !isCount)) {
      return sendError(res, 'anthropic', 404, `Not found: ${req.method} ${path}`);
    }
    if (opts.apiKey !== undefined) {
      // SDK 1.x sends the key as `Authorization: Bearer`; older clients and curl use `x-api-key`.
      const header = req.headers['x-api-key'];
      const viaHeader = Array.isArray(header) ? header[0] : header;
      const viaBearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      if (viaHeader !== opts.apiKey && viaBearer !== opts.apiKey) {
        return sendError(res, 'anthropic', 401, viaHeader || viaBearer ? 'invalid x-api-key' : 'x-api-key header is required');
      }
    }
    if (await answerInjectedFault(res, 'anthropic', faults, dice, bodyText)) return;

    const body = jsonObject(bodyText);
    if (!body) return sendError(res, 'anthropic', 400, 'The request body is not a JSON object.');
    const messages = Array.isArray(body.messages) ? body.messages.filter(isRecord) : [];
    if (typeof body.model !== 'string' || messages.length === 0) {
      return sendError(res, 'anthropic', 400, '`model` and a non-empty `messages` list are required.');
    }

    const userText = messages.filter((m) => m.role === 'user').map((m) => contentText(m.content)).join('\n');
    if (isCount) return sendJson(res, 200, { input_tokens: cache.countTokens(body) });

    if (typeof body.max_tokens !== 'number' || body.max_tokens < 1) {
      return sendError(res, 'anthropic', 400, '`max_tokens` must be a positive number.');
    }
    if (body.stream === true) {
      return sendError(res, 'anthropic', 400, 'The stand-in does not stream; call messages.create without `stream`.');
    }

    // Counted, and the cache written or read, only for a request that is answered: failed requests are not billed.
    const reply = (content: unknown[], stopReason: string, outputChars: number) => {
      const usage = { ...cache.inputUsage(body), output_tokens: Math.max(1, estimateTokens(outputChars)) };
      sendJson(
        res,
        200,
        {
          id: newId('msg'),
          type: 'message',
          role: 'assistant',
          model: body.model,
          content,
          stop_reason: stopReason,
          stop_sequence: null,
          usage,
        },
        { 'request-id': newId('req') },
      );
    };

    // Structured outputs: a JSON Schema in output_config.format, answered with JSON text that follows it: read from the
    // pages in the prompt for the shapes Dossier asks for (`fields`, `verdicts`), else mapped from the notes' labels.
    const format = isRecord(body.output_config) && isRecord(body.output_config.format) ? body.output_config.format : undefined;
    if (format) {
      if (format.type !== 'json_schema') return sendError(res, 'anthropic', 400, 'output_config.format.type must be "json_schema".');
      const result = answerStructured(userText, format.schema) ?? extractFromNotes(userText, format.schema);
      if ('error' in result) return sendError(res, 'anthropic', 400, result.error);
      const text = JSON.stringify(result.input);
      return reply([{ type: 'text', text }], 'end_turn', text.length);
    }

    const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
    if (tools.length === 0) {
      let text = writeResearchNotes(userText);
      let stopReason = 'end_turn';
      // A real model stops mid-sentence at max_tokens; callers must cope with that here too.
      const limit = body.max_tokens * 4;
      if (text.length > limit) {
        text = text.slice(0, limit);
        stopReason = 'max_tokens';
      }
      return reply([{ type: 'text', text }], stopReason, text.length);
    }

    const choice = isRecord(body.tool_choice) ? body.tool_choice : {};
    const tool =
      choice.type === 'tool' ? tools.find((t) => t.name === choice.name)
      : choice.type === 'any' && tools.length === 1 ? tools[0]
      : undefined;
    if (!tool || typeof tool.name !== 'string') {
      return sendError(res, 'anthropic', 400, 'The stand-in only answers a forced tool call: tool_choice {type:"tool", name} naming one of `tools`.');
    }
    const result = answerStructured(userText, tool.input_schema) ?? extractFromNotes(userText, tool.input_schema);
    if ('error' in result) return sendError(res, 'anthropic', 400, result.error);
    return reply([{ type: 'tool_use', id: newId('toolu'), name: tool.name, input: result.input }], 'tool_use', JSON.stringify(result.input).length);
  }, { latencyMs: opts.latencyMs, limits: opts.limits });
}
