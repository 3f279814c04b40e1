/** A local server that answers @tavily/core's /search and /extract calls from a corpus of pages. */
import { randomUUID } from 'node:crypto';
import type { CorpusDocument } from './corpus';
import {
  createFaultInjector,
  jsonObject,
  sendError,
  sendJson,
  serveLocally,
  type FaultRule,
  type StandIn,
} from './faults';
import type { StandInLimits } from './rate-limits';
import { answerInjectedFault, faultDiceOf, type FaultDice, type FaultRates } from './fault-rates';

export type { FaultRule, StandIn } from './faults';

export type TavilyStandInOptions = {
  documents: CorpusDocument[];
  apiKey?: string;
  faults?: FaultRule[];
  latencyMs?: number;
  /** Its own rate limit, and 429s at a given rate (local/stand-ins/rate-limits.ts). */
  limits?: StandInLimits;
  /** Faults at rates, drawn from a seed (fault-rates.ts), besides the `faults` rules. */
  randomFaults?: FaultRates | FaultDice;
};

export type SearchHit = { document: CorpusDocument; score: number };

const DEFAULT_MAX_RESULTS = 5;
// Tavily caps max_results at 20; honouring the cap keeps local runs honest about what the API allows.
const MAX_RESULTS_CAP = 20;
const K1 = 1.2;
const B = 0.75;

export function tokenize(text: string): string[] {
  // Accents folded so "Zurich" finds "Zürich", as a web search would.
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * A BM25 index over title + body, built once per server since the corpus does not change.
 * The search returns every page sharing a word with the query, best first, with raw BM25 scores.
 */
export function createSearchIndex(documents: readonly CorpusDocument[]): (query: string) => SearchHit[] {
  const docs = documents.map((document) => {
    const tokens = tokenize(`${document.title}\n${document.content}`);
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    return { document, tf, length: tokens.length };
  });
  const df = new Map<string, number>();
  for (const d of docs) for (const t of d.tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const n = docs.length;
  const avgLength = docs.reduce((sum, d) => sum + d.length, 0) / Math.max(n, 1) || 1;
  // The "+1" form keeps IDF positive but near zero for words on every page, so they barely count.
  const idf = (term: string) => {
    const f = df.get(term) ?? 0;
    return Math.log(1 + (n - f + 0.5) / (f + 0.5));
  };

  return (query) => {
    const terms = [...new Set(tokenize(query))];
    const scored = docs
      .map((d, order) => {
        let score = 0;
        for (const term of terms) {
          const f = d.tf.get(term);
          if (!f) continue;
          score += (idf(term) * f * (K1 + 1)) / (f + K1 * (1 - B + (B * d.length) / avgLength));
        }
        return { document: d.document, score, order };
      })
      .filter((s) => s.score > 0)
      // Ties fall back to corpus order, so equal pages always come out the same way round.
      .sort((a, b) => b.score - a.score || a.order - b.order);
    return scored.map(({ document, score }) => ({ document, score }));
  };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** include_domains / exclude_domains match a host or any of its subdomains, like Tavily's. */
function domainFilter(include: unknown, exclude: unknown): (doc: CorpusDocument) => boolean {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase()) : []);
  const inc = list(include);
  const exc = list(exclude);
  const within = (host: string | undefined, domain: string) => !!host && (host === domain || host.endsWith(`.${domain}`));
  return (doc) => {
    const host = hostOf(doc.url);
    if (inc.length > 0 && !inc.some((d) => within(host, d))) return false;
    return !exc.some((d) => within(host, d));
  };
}

export function startTavilyStandIn(opts: TavilyStandInOptions): Promise<StandIn> {
  const search = createSearchIndex(opts.documents);
  const byUrl = new Map(opts.documents.map((d) => [d.url, d]));
  const faults = createFaultInjector(opts.faults);
  const dice = faultDiceOf(opts.randomFaults);

  return serveLocally('tavily', async (req, res, bodyText) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e7) / 100;
    const path = (req.url ?? '/').split('?')[0];

    if (req.method !== 'POST' || (path !== '/search' && path !== '/extract')) {
      return sendError(res, 'tavily', 404, `Not found: ${req.method} ${path}`);
    }
    if (opts.apiKey !== undefined) {
      const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      if (given !== opts.apiKey) {
        return sendError(res, 'tavily', 401, given ? 'Unauthorized: invalid API key.' : 'Unauthorized: missing API key.');
      }
    }
    if (await answerInjectedFault(res, 'tavily', faults, dice, bodyText)) return;

    const body = jsonObject(bodyText || '{}');
    if (!body) return sendError(res, 'tavily', 400, 'Bad request: the body is not a JSON object.');

    if (path === '/extract') {
      const urls = Array.isArray(body.urls) ? body.urls : typeof body.urls === 'string' ? [body.urls] : [];
      const results: unknown[] = [];
      const failed: unknown[] = [];
      for (const url of urls) {
        const doc = typeof url === 'string' ? byUrl.get(url) : undefined;
        if (doc) results.push({ url: doc.url, title: doc.title, raw_content: doc.content, images: [] });
        else failed.push({ url, error: 'Not in the local corpus' });
      }
      return sendJson(res, 200, { results, failed_results: failed, response_time: elapsed(), request_id: randomUUID() });
    }

    const query = typeof body.query === 'string' ? body.query.trim() : '';
    if (!query) return sendError(res, 'tavily', 400, 'Bad request: query is missing.');
    const requested = typeof body.max_results === 'number' && Number.isFinite(body.max_results) ? Math.floor(body.max_results) : DEFAULT_MAX_RESULTS;
    const limit = Math.min(Math.max(requested, 0), MAX_RESULTS_CAP);
    const keep = domainFilter(body.include_domains, body.exclude_domains);
    // Filtered before the cut so a domain filter still yields `limit` results when it can.
    const hits = search(query).filter((h) => keep(h.document)).slice(0, limit);
    const top = hits[0]?.score ?? 1;
    const wantRaw = body.include_raw_content === true || body.include_raw_content === 'markdown' || body.include_raw_content === 'text';
    sendJson(res, 200, {
      query,
      answer: null,
      images: [],
      results: hits.map((h) => ({
        title: h.document.title,
        url: h.document.url,
        content: h.document.content,
        // Relative to the best hit, so scores land in 0..1 like Tavily's.
        score: Math.round((h.score / top) * 10_000) / 10_000,
        raw_content: wantRaw ? h.document.content : null,
      })),
      response_time: elapsed(),
      request_id: randomUUID(),
    });
  }, { latencyMs: opts.latencyMs, limits: opts.limits });
}
