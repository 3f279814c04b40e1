/**
 * A local server that answers @google/genai's models.generateContent with the Google Search tool, from a corpus of
 * pages, in the Gemini API's shape: the answer text, and grounding metadata naming the pages (groundingChunks, as
 * redirects through the server like the real API's) and the answer's sentences each page supports
 * (groundingSupports). The "model" reports a page's opening sentence and its `- Label: value` facts, merging a fact
 * several pages state into one sentence cited to all of them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CorpusDocument } from './corpus';
import { parseFactLines } from './facts';
import { answerInjectedFault, faultDiceOf, type FaultDice, type FaultRates } from './fault-rates';
import { createFaultInjector, jsonObject, isRecord, sendError, sendJson, serveLocally, type FaultRule, type StandIn } from './faults';
import type { StandInLimits } from './rate-limits';
import { createSearchIndex } from './tavily-stand-in';
import { estimateTokens } from './token-accounting';

export type GeminiStandInOptions = {
  documents: CorpusDocument[];
  apiKey?: string;
  faults?: FaultRule[];
  /** Faults at rates, drawn from a seed (fault-rates.ts), besides the `faults` rules. */
  randomFaults?: FaultRates | FaultDice;
  latencyMs?: number;
  /** Its own rate limit, as a Gemini project's (local/stand-ins/rate-limits.ts). */
  limits?: StandInLimits;
};

export type GeminiStandIn = StandIn & {
  /** generateContent calls answered (faults included); `requests` also counts followed redirects. */
  readonly searches: number;
  readonly injected: FaultDice['injected'];
};

/** Pages one answer draws on; the real model's count varies, usually a handful. */
const MAX_PAGES = 5;
const REDIRECT_PATH = '/grounding-api-redirect/';
const GENERATE = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):generateContent$/;


/** The user's text of a generateContent body: `contents` is a list of {role, parts:[{text}]}. */
function userText(contents: unknown[]): string {
  return contents
    .filter(isRecord)
    .filter((c) => c.role === undefined || c.role === 'user')
    .flatMap((c) => (Array.isArray(c.parts) ? c.parts : []))
    .map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : ''))
    .join('\n');
}

/** What the "model" searches for: a `Query:` line when the prompt has one (Dossier's adapter writes it), else all of it. */
export function searchQueryOf(text: string): string {
  const lines = [...text.matchAll(/^\s*Query:\s*(.+)$/gim)];
  return (lines.at(-1)?.[1] ?? text).trim();
}

/** A page's first prose sentence: what a summary of it would open with. */
function openingSentence(content: string): string | undefined {
  const paragraph = content
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .find((p) => p.length > 0 && !p.startsWith('#') && !/^[-*]\s/.test(p));
  if (!paragraph) return undefined;
  const flat = paragraph.replace(/\s+/g, ' ');
  return /^.+?[.!?](?=\s|$)/.exec(flat)?.[0] ?? flat;
}

type Segment = { text: string; pages: number[] };

/** The answer, sentence by sentence, each with the pages (indexes into the hits) that support it. */
export function groundedAnswer(pages: readonly CorpusDocument[]): Segment[] {
  const segments: Segment[] = [];
  const byFact = new Map<string, Segment>();
  pages.forEach((page, index) => {
    const opening = openingSentence(page.content);
    if (opening) segments.push({ text: opening, pages: [index] });
    for (const fact of parseFactLines(page.content)) {
      const text = `- ${fact.label}: ${fact.value}`;
      const key = text.toLowerCase().replace(/\s+/g, ' ');
      const seen = byFact.get(key);
      if (seen) {
        if (!seen.pages.includes(index)) seen.pages.push(index);
        continue;
      }
      const segment = { text, pages: [index] };
      byFact.set(key, segment);
      segments.push(segment);
    }
  });
  return segments;
}

const redirectToken = (url: string) => Buffer.from(url, 'utf8').toString('base64url');

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || url;
  } catch {
    return url;
  }
}

/** The key from `x-goog-api-key` (what the SDK sends) or `?key=` (what curl examples use). */
function givenKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-goog-api-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader ?? new URL(req.url ?? '/', 'http://stand-in').searchParams.get('key') ?? undefined;
}

export async function startGeminiStandIn(opts: GeminiStandInOptions): Promise<GeminiStandIn> {
  const search = createSearchIndex(opts.documents);
  const faults = createFaultInjector(opts.faults);
  const dice = faultDiceOf(opts.randomFaults);
  let searches = 0;

  const standIn = await serveLocally('gemini', async (req, res, bodyText) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';

    // The real redirect host needs no key; neither does this one.
    if ((req.method === 'GET' || req.method === 'HEAD') && path.startsWith(REDIRECT_PATH)) {
      const target = Buffer.from(path.slice(REDIRECT_PATH.length), 'base64url').toString('utf8');
      if (!/^(https?|file):/.test(target)) return sendError(res, 'gemini', 404, 'Unknown grounding redirect.');
      res.writeHead(302, { location: target, 'content-length': '0' });
      res.end();
      return;
    }
    const model = GENERATE.exec(path)?.[1];
    if (req.method !== 'POST' || model === undefined) {
      return sendError(res, 'gemini', 404, `The stand-in answers POST /v1beta/models/{model}:generateContent, not ${req.method} ${path}.`);
    }
    searches += 1;
    if (opts.apiKey !== undefined) {
      const key = givenKey(req);
      if (key === undefined) {
        return sendError(res, 'gemini', 403, 'Method doesn\'t allow unregistered callers. Please use an API key.');
      }
      // The real API answers a wrong key with 400, not 401.
      if (key !== opts.apiKey) return sendError(res, 'gemini', 400, 'API key not valid. Please pass a valid API key.');
    }
    if (await answerInjectedFault(res, 'gemini', faults, dice, bodyText)) return;

    const body = jsonObject(bodyText);
    if (!body) return sendError(res, 'gemini', 400, 'Invalid JSON payload received.');
    const contents = Array.isArray(body.contents) ? body.contents : [];
    const text = userText(contents);
    if (text.trim().length === 0) return sendError(res, 'gemini', 400, '* GenerateContentRequest.contents: contents is not specified');

    const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
    const grounded = tools.some((t) => 'googleSearch' in t || 'google_search' in t);
    const reply = (answer: string, groundingMetadata?: unknown) => {
      const promptTokenCount = Math.max(1, estimateTokens(text.length));
      const candidatesTokenCount = Math.max(1, estimateTokens(answer.length));
      sendJson(res, 200, {
        candidates: [
          {
            content: { parts: [{ text: answer }], role: 'model' },
            finishReason: 'STOP',
            index: 0,
            ...(groundingMetadata ? { groundingMetadata } : {}),
          },
        ],
        usageMetadata: { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount },
        modelVersion: model,
        responseId: randomBytes(12).toString('base64url'),
      });
    };
    if (!grounded) return reply('The stand-in knows nothing but its corpus: give it the googleSearch tool.');

    const query = searchQueryOf(text);
    const pages = search(query).slice(0, MAX_PAGES).map((hit) => hit.document);
    const segments = groundedAnswer(pages);
    if (segments.length === 0) {
      return reply(`I found no web pages about "${query}".`, { webSearchQueries: [query] });
    }
    const origin = `http://${req.headers.host}`;
    const answer = segments.map((s) => s.text).join('\n');
    let offset = 0;
    const groundingSupports = segments.map((segment) => {
      // Offsets count UTF-8 bytes of the answer, as the real API's do; a zero start is left out, as proto3 JSON does.
      const startIndex = offset;
      const endIndex = startIndex + Buffer.byteLength(segment.text, 'utf8');
      offset = endIndex + 1;
      return {
        segment: { ...(startIndex > 0 ? { startIndex } : {}), endIndex, text: segment.text },
        groundingChunkIndices: segment.pages,
      };
    });
    reply(answer, {
      webSearchQueries: [query],
      searchEntryPoint: { renderedContent: `<div class="search-suggestions">${query.replace(/[<>&"]/g, '')}</div>` },
      groundingChunks: pages.map((page) => ({ web: { uri: `${origin}${REDIRECT_PATH}${redirectToken(page.url)}`, title: hostOf(page.url) } })),
      groundingSupports,
    });
  }, { latencyMs: opts.latencyMs, limits: opts.limits, limited: (req) => !(req.url ?? '').startsWith(REDIRECT_PATH) });

  return {
    url: standIn.url,
    close: () => standIn.close(),
    get requests() {
      return standIn.requests;
    },
    get log() {
      return standIn.log;
    },
    get searches() {
      return searches;
    },
    injected: dice.injected,
  };
}
