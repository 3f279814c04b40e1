/**
 * Reads a company's pages straight from the web: no search engine and no credits, only the Lambda's time.
 * A polite reader: it names itself, asks robots.txt first (RFC 9309), reads only HTML or plain text, and stops at a
 * size and a time limit. A careful one: the domain is the caller's, so no request (nor a redirect) may reach a
 * private, loopback or link-local address; a host name is checked as it resolves, so DNS cannot smuggle one in.
 * Locally `baseUrl` routes every request to the web stand-in (local/stand-ins/web-stand-in.ts) as
 * `{baseUrl}/{host}{path}`, while pages keep their real URLs.
 */
import { TextDecoder } from 'node:util';
import { fetch, type Response } from 'undici';
import { findAll, getAttributeValue, textContent } from 'domutils';
import { parseDocument } from 'htmlparser2';
import { compile } from 'html-to-text';
import robotsParser from 'robots-parser';
import { PageUnreadable, type SiteLink, type SitePage, type SiteReader } from './site-reader';
import { isInternalHostName, isPrivateAddress } from '../shared/private-addresses';
import { fetchFailure, publicOnlyDispatcher } from '../shared/public-fetch';

/** How the reader names itself to sites and their robots.txt rules (a robots.txt may address `DossierBot`). */
export const DOSSIER_USER_AGENT = 'DossierBot/1.0 (company research)';

export interface WebSiteReaderOptions {
  userAgent?: string;
  /** Set to read from a stand-in instead of the web. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Bytes of a page read at most; the rest is not downloaded. */
  maxBytes?: number;
  /** Local runs and tests only: sites on this machine (the stand-in) may be read. */
  allowPrivateAddresses?: boolean;
}

const DEFAULTS = { timeoutMs: 8_000, maxBytes: 1_000_000 };
/** robots.txt files kept at once: a company's pages are read together, so the latest few sites are enough. */
const ROBOTS_KEPT = 256;
const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** Why a URL may not be requested at all; Node skips the lookup for an address literal, so it is checked here. */
function addressProblem(url: URL): string | undefined {
  // isPrivateAddress takes an IPv6 address with or without its brackets.
  if (isPrivateAddress(url.hostname) || isInternalHostName(url.hostname)) return `${url.href}: a private or internal address is never read`;
  return undefined;
}

// Navigation menus repeat on every page and state nothing about the company; images and forms carry no text.
// Link targets are left out of the text (the links are returned apart), so a quoted passage is the page's words.
const toText = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'nav', format: 'skip' },
    { selector: 'form', format: 'skip' },
    { selector: 'svg', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

type Robots = ReturnType<typeof robotsParser>;

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The title and every link of an HTML page, links resolved against the page (or its `<base href>`). */
export function readHtml(html: string, pageUrl: string): { title: string; links: SiteLink[]; text: string } {
  const document = parseDocument(html);
  const title = findAll((e) => e.name === 'title', document.children)[0];
  const base = findAll((e) => e.name === 'base' && !!getAttributeValue(e, 'href'), document.children)[0];
  let resolveAgainst = pageUrl;
  try {
    if (base) resolveAgainst = new URL(getAttributeValue(base, 'href')!, pageUrl).href;
  } catch {
    // an unreadable <base> is ignored, as browsers do
  }
  const links: SiteLink[] = [];
  for (const anchor of findAll((e) => e.name === 'a', document.children)) {
    const href = getAttributeValue(anchor, 'href');
    if (!href) continue;
    let url: URL;
    try {
      url = new URL(href, resolveAgainst);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    url.hash = '';
    links.push({ url: url.href, text: collapse(textContent(anchor)) });
  }
  return { title: title ? collapse(textContent(title)) : '', links, text: toText(html).trim() };
}

export function createWebSiteReader(options: WebSiteReaderOptions = {}): SiteReader {
  const userAgent = options.userAgent ?? DOSSIER_USER_AGENT;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
  const base = options.baseUrl?.replace(/\/+$/, '');
  // One robots.txt per origin for the reader's life (a container's): a company's pages are read in one go.
  const robotsByOrigin = new Map<string, Promise<Robots | 'disallow-all' | undefined>>();

  const transportUrl = (url: URL) => (base ? `${base}/${url.host}${url.pathname}${url.search}` : url.href);
  /** A URL the transport gave back (a redirect's target), as the page's real URL. */
  const realUrl = (fetched: string, requested: URL) => {
    if (!base || !fetched.startsWith(`${base}/`)) return fetched;
    return `${requested.protocol}//${fetched.slice(base.length + 1)}`;
  };

  /** One GET, following redirects itself so that every hop is checked; `url` is where it ended. */
  async function get(start: URL, accept: string): Promise<{ response: Response; url: URL }> {
    const signal = AbortSignal.timeout(timeoutMs);
    let url = start;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const problem = options.allowPrivateAddresses ? undefined : addressProblem(url);
      if (problem) throw new PageUnreadable(problem);
      let response: Response;
      try {
        response = await fetch(transportUrl(url), {
          headers: { 'user-agent': userAgent, accept },
          redirect: 'manual',
          signal,
          dispatcher: options.allowPrivateAddresses ? undefined : publicOnlyDispatcher,
        });
      } catch (error) {
        throw new PageUnreadable(`${url.href}: ${fetchFailure(error)}`);
      }
      const location = response.headers.get('location');
      if (!REDIRECT.has(response.status) || !location) return { response, url };
      await response.body?.cancel().catch(() => undefined);
      try {
        url = new URL(realUrl(new URL(location, transportUrl(url)).href, url));
      } catch {
        throw new PageUnreadable(`${url.href}: redirects to "${location}", which is not a URL`);
      }
    }
    throw new PageUnreadable(`${start.href}: more than ${MAX_REDIRECTS} redirects`);
  }

  /** RFC 9309: a 4xx robots.txt allows everything; a 5xx or no answer means the site may not be read. */
  function robotsFor(url: URL) {
    let robots = robotsByOrigin.get(url.origin);
    if (!robots) {
      robots = (async () => {
        const robotsUrl = new URL('/robots.txt', url.origin);
        let response: Response;
        try {
          ({ response } = await get(robotsUrl, 'text/plain'));
        } catch {
          return 'disallow-all' as const;
        }
        if (response.status >= 500) return 'disallow-all' as const;
        if (!response.ok) return undefined;
        return robotsParser(robotsUrl.href, await response.text());
      })();
      robotsByOrigin.set(url.origin, robots);
      // A warm container researches thousands of companies: the oldest site's rules go first.
      if (robotsByOrigin.size > ROBOTS_KEPT) robotsByOrigin.delete(robotsByOrigin.keys().next().value!);
    }
    return robots;
  }

  /** The page's text in the charset its content type names (UTF-8 when none, or one this runtime cannot decode). */
  function decoder(type: string): TextDecoder {
    const charset = /charset="?([\w-]+)/i.exec(type)?.[1];
    try {
      return new TextDecoder(charset ?? 'utf-8');
    } catch {
      return new TextDecoder('utf-8');
    }
  }

  async function body(response: Response, url: string): Promise<string> {
    if (!response.body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        chunks.push(chunk);
        size += chunk.byteLength;
        if (size >= maxBytes) break; // leaving the loop cancels the rest of the download
      }
    } catch (error) {
      throw new PageUnreadable(`${url}: the page stopped arriving (${(error as Error).message})`);
    }
    return decoder(response.headers.get('content-type') ?? '').decode(Buffer.concat(chunks).subarray(0, maxBytes));
  }

  return {
    name: 'web',
    async fetchPage(pageUrl: string): Promise<SitePage> {
      let url: URL;
      try {
        url = new URL(pageUrl);
      } catch {
        throw new PageUnreadable(`${pageUrl}: not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PageUnreadable(`${pageUrl}: not a web page`);
      const problem = options.allowPrivateAddresses ? undefined : addressProblem(url);
      if (problem) throw new PageUnreadable(problem);
      const robots = await robotsFor(url);
      if (robots === 'disallow-all') throw new PageUnreadable(`${url.href}: the site's robots.txt could not be read, so the site is not read`);
      if (robots && robots.isAllowed(url.href, userAgent) === false) throw new PageUnreadable(`${url.href}: robots.txt does not allow it`);

      const { response, url: landed } = await get(url, 'text/html, text/plain;q=0.8');
      const finalUrl = landed.href;
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new PageUnreadable(`${url.href}: HTTP ${response.status}`);
      }
      const type = (response.headers.get('content-type') ?? '').toLowerCase();
      const html = type.includes('html');
      if (!html && !type.startsWith('text/plain')) {
        await response.body?.cancel().catch(() => undefined);
        throw new PageUnreadable(`${url.href}: not a page of text (${type || 'no content type'})`);
      }
      const raw = await body(response, url.href);
      if (!html) return { url: finalUrl, title: '', text: raw.trim(), links: [] };
      const page = readHtml(raw, finalUrl);
      return { url: finalUrl, ...page };
    },
  };
}
