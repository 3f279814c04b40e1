/**
 * The site reader over real HTTP: a local server plays a company's site (robots.txt, HTML pages, a PDF, a page that
 * never answers), and the web stand-in plays the example corpus's sites through the reader's `baseUrl` routing.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageUnreadable } from '../../lambdas/providers/site-reader';
import { createWebSiteReader, DOSSIER_USER_AGENT, readHtml } from '../../lambdas/providers/web-site-reader';
import { publicOnlyLookup } from '../../lambdas/shared/public-fetch';
import { loadCorpus } from '../../local/stand-ins/corpus';
import type { StandIn } from '../../local/stand-ins/faults';
import { startWebStandIn } from '../../local/stand-ins/web-stand-in';

const ABOUT = `<!doctype html><html><head><title>Kestrel Looms &amp; Co — About</title></head><body>
<nav><a href="/">Home</a> <a href="/team">Team</a></nav>
<main><h1>About us</h1><p>Kestrel Looms was founded in 1998 in Tilburg.</p>
<ul><li>CEO: Anna de Wit</li></ul>
<a href="https://kestrel-looms.example/press#latest">Press</a> <a href="mailto:hi@kestrel-looms.example">Mail</a>
<script>var tracking = "never text";</script></main></body></html>`;

const seenAgents: string[] = [];
let server: http.Server;
let origin: string;
let release: () => void = () => undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seenAgents.push(String(req.headers['user-agent']));
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    switch (req.url) {
      case '/robots.txt':
        return send(200, 'text/plain', 'User-agent: *\nDisallow: /private\n');
      case '/old-about':
        res.writeHead(301, { location: '/about' });
        return res.end();
      case '/about':
        return send(200, 'text/html; charset=utf-8', ABOUT);
      case '/private/board':
        return send(200, 'text/html', '<p>should never be read</p>');
      case '/report.pdf':
        return send(200, 'application/pdf', '%PDF-1.7');
      case '/latin':
        res.writeHead(200, { 'content-type': 'text/html; charset=ISO-8859-1' });
        return res.end(Buffer.from('<p>Gr\u00fcnd\u00e9 \u00e0 Z\u00fcrich</p>', 'latin1'));
      case '/big':
        return send(200, 'text/html', `<p>${'word '.repeat(50_000)}</p><p>THE END</p>`);
      case '/slow':
        // Answers only when the test ends: the reader must give up on its own.
        release = () => send(200, 'text/html', '<p>late</p>');
        return;
      default:
        return send(404, 'text/html', '<p>Not found</p>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  release();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the web site reader', () => {
  // The site of these tests is on this machine, which a deployed reader never reads (tested below).
  const reader = () => createWebSiteReader({ timeoutMs: 500, maxBytes: 20_000, allowPrivateAddresses: true });

  it('reads a page as text, with its title and its links resolved; scripts and the menu are not text', async () => {
    const page = await reader().fetchPage(`${origin}/about`);
    expect(page.url).toBe(`${origin}/about`);
    expect(page.title).toBe('Kestrel Looms & Co — About');
    expect(page.text).toContain('Kestrel Looms was founded in 1998 in Tilburg.');
    expect(page.text).toMatch(/^\s*\*\s+CEO: Anna de Wit$/m);
    expect(page.text).not.toContain('never text');
    expect(page.text).not.toContain('Team');
    expect(page.links).toEqual([
      { url: `${origin}/`, text: 'Home' },
      { url: `${origin}/team`, text: 'Team' },
      // The fragment is not part of the page; a mailto: link is not a page.
      { url: 'https://kestrel-looms.example/press', text: 'Press' },
    ]);
    expect(seenAgents).toContain(DOSSIER_USER_AGENT);
  });

  it('follows a redirect and reports where the page was read', async () => {
    const page = await reader().fetchPage(`${origin}/old-about`);
    expect(page.url).toBe(`${origin}/about`);
    expect(page.text).toContain('founded in 1998');
  });

  it('never reads a private, loopback or internal address unless told to (a domain is the caller’s to choose)', async () => {
    const deployed = createWebSiteReader({ timeoutMs: 500 });
    for (const url of [`${origin}/about`, 'http://169.254.169.254/latest/meta-data/', 'https://10.0.0.8/', 'http://[::1]/', 'https://localhost/', 'https://metadata.google.internal/']) {
      await expect(deployed.fetchPage(url), url).rejects.toThrow(/a private or internal address is never read/);
    }
    // A name is checked as it resolves: localhost answers with a loopback address on any machine.
    const resolved = await new Promise<Error | null>((resolve) => publicOnlyLookup('localhost', {}, (error) => resolve(error)));
    expect(resolved?.message).toMatch(/^localhost resolves to a private address/);
  });

  it("keeps out of what robots.txt disallows, and says so", async () => {
    await expect(reader().fetchPage(`${origin}/private/board`)).rejects.toThrow(/robots\.txt does not allow it/);
  });

  it('refuses what is not a page of text, a missing page and a page too slow to arrive, each with its reason', async () => {
    const r = reader();
    await expect(r.fetchPage(`${origin}/report.pdf`)).rejects.toThrow(/not a page of text \(application\/pdf\)/);
    await expect(r.fetchPage(`${origin}/nowhere`)).rejects.toThrow(/HTTP 404/);
    const slow = r.fetchPage(`${origin}/slow`);
    await expect(slow).rejects.toBeInstanceOf(PageUnreadable);
    await expect(slow).rejects.toThrow(/\/slow: /);
    await expect(r.fetchPage('ftp://kestrel-looms.example/')).rejects.toThrow(/not a web page/);
  });

  it('decodes a page in the charset its content type names', async () => {
    const page = await reader().fetchPage(`${origin}/latin`);
    expect(page.text).toBe('Gründé à Zürich');
  });

  it('reads no more than its size limit of a page', async () => {
    const page = await reader().fetchPage(`${origin}/big`);
    expect(page.text.length).toBeGreaterThan(10_000);
    expect(page.text.length).toBeLessThan(20_000);
    expect(page.text).not.toContain('THE END');
  });

  it('does not read a site whose robots.txt fails with a server error (RFC 9309)', async () => {
    const failing = http.createServer((req, res) => {
      res.writeHead(req.url === '/robots.txt' ? 503 : 200, { 'content-type': 'text/html' });
      res.end('<p>up</p>');
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`;
      await expect(reader().fetchPage(url)).rejects.toThrow(/robots\.txt could not be read/);
    } finally {
      failing.closeAllConnections();
      await new Promise((resolve) => failing.close(resolve));
    }
  });

  it('resolves links against a <base href>', () => {
    const { links } = readHtml('<head><base href="https://cdn.example/site/"></head><a href="team">Team</a>', 'https://example.com/');
    expect(links).toEqual([{ url: 'https://cdn.example/site/team', text: 'Team' }]);
  });
});

describe('the web stand-in, through the reader', () => {
  let web: StandIn;
  beforeAll(async () => {
    web = await startWebStandIn({ documents: loadCorpus('examples/corpus'), robots: { 'mercury-bioworks.example': 'User-agent: DossierBot\nDisallow: /\n' } });
  });
  afterAll(() => web.close());

  it("serves a corpus site at its real URLs: a home page whose menu links the site's pages", async () => {
    const reader = createWebSiteReader({ baseUrl: web.url, allowPrivateAddresses: true });
    const home = await reader.fetchPage('https://mercury-freight.example/');
    expect(home.url).toBe('https://mercury-freight.example/');
    expect(home.title).toBe('Mercury Freight');
    expect(home.links.map((l) => l.url).sort()).toEqual([
      'https://mercury-freight.example/about',
      'https://mercury-freight.example/news/new-ceo',
      'https://mercury-freight.example/services',
    ]);
    const about = await reader.fetchPage('https://mercury-freight.example/about');
    expect(about.title).toBe('Mercury Freight — Company profile');
    expect(about.text).toContain('Mercury Freight began as a two-person brokerage in the Rotterdam port district');
  });

  it('answers an unknown host as the web does (no connection), and honours a robots.txt addressed to DossierBot', async () => {
    const reader = createWebSiteReader({ baseUrl: web.url, allowPrivateAddresses: true });
    await expect(reader.fetchPage('https://no-such-company.example/')).rejects.toBeInstanceOf(PageUnreadable);
    await expect(reader.fetchPage('https://mercury-bioworks.example/')).rejects.toThrow(/robots\.txt does not allow it/);
  });
});
