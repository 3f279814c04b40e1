/**
 * The web, as far as companies' own sites go: every corpus page served as HTML at its URL, so the site reader
 * (lambdas/providers/web-site-reader.ts) reads the same pages a search would find. Requests arrive as
 * `GET /{host}{path}` (the reader's `baseUrl` routing). Each site has a menu linking its pages, a home page (the
 * corpus's own, or one listing the site's pages as a home page's menu does) and a robots.txt that allows all.
 * A host with no pages answers as an unknown host does: the connection drops.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { marked } from 'marked';
import type { CorpusDocument } from './corpus';
import { sendText, serveLocally, type StandIn } from './faults';

export type WebStandInOptions = {
  documents: CorpusDocument[];
  latencyMs?: number;
  /** robots.txt texts by host, in place of "allow everything". */
  robots?: Record<string, string>;
};

type Site = { name: string; pages: Map<string, CorpusDocument> };

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const pathKey = (path: string) => path.replace(/\/+$/, '') || '/';

/** "Mercury Freight — Company profile": the site is "Mercury Freight", the page "Company profile". */
const titleParts = (title: string) => {
  const [site, ...page] = title.split(/\s+[—–|-]\s+/);
  return { site: site!.trim(), page: page.join(' — ').trim() || site!.trim() };
};

export function sitesOf(documents: readonly CorpusDocument[]): Map<string, Site> {
  const sites = new Map<string, Site>();
  for (const document of documents) {
    let url: URL;
    try {
      url = new URL(document.url);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    const site = sites.get(url.host) ?? { name: titleParts(document.title).site, pages: new Map() };
    site.pages.set(pathKey(url.pathname), document);
    sites.set(url.host, site);
  }
  return sites;
}

function menu(host: string, site: Site): string {
  const items = [...site.pages]
    .filter(([path]) => path !== '/')
    .map(([path, document]) => `<li><a href="https://${host}${path}">${escape(titleParts(document.title).page)}</a></li>`);
  return `<ul>${items.join('')}</ul>`;
}

function html(title: string, nav: string, main: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><nav>${nav}</nav><main>${main}</main><footer><p>© ${escape(title)}</p></footer></body></html>`;
}

function page(host: string, site: Site, path: string): string | undefined {
  const document = site.pages.get(path);
  if (document) return html(document.title, menu(host, site), marked.parse(document.content, { async: false }));
  if (path !== '/') return undefined;
  return html(site.name, '', `<h1>${escape(site.name)}</h1>${menu(host, site)}`);
}

const send = (res: ServerResponse, status: number, type: string, body: string) => sendText(res, status, `${type}; charset=utf-8`, body);

export function startWebStandIn(options: WebStandInOptions): Promise<StandIn> {
  const sites = sitesOf(options.documents);
  return serveLocally(
    'web',
    (req: IncomingMessage, res: ServerResponse) => {
      const [, host = '', ...rest] = (req.url ?? '/').split('?')[0]!.split('/');
      const path = pathKey(`/${rest.join('/')}`);
      const site = sites.get(host);
      if (!site) {
        req.socket.destroy();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'Method not allowed');
      if (path === '/robots.txt') return send(res, 200, 'text/plain', options.robots?.[host] ?? 'User-agent: *\nAllow: /\n');
      const body = page(host, site, path);
      if (body === undefined) return send(res, 404, 'text/html', html('Not found', menu(host, site), '<h1>Page not found</h1>'));
      send(res, 200, 'text/html', body);
    },
    { latencyMs: options.latencyMs },
  );
}
