import { describe, expect, it } from 'vitest';
import type { ExtractionSchema } from '../../lambdas/core/contracts';
import { linkScore, pickSiteLinks, readCompanySite, SITE_PAGES } from '../../lambdas/core/company-site';
import { fieldsOf } from '../../lambdas/core/json-schema';
import { PageUnreadable, type SitePage, type SiteReader } from '../../lambdas/providers/site-reader';

const fields = (properties: Record<string, unknown>) => fieldsOf({ type: 'object', properties } as ExtractionSchema);
const link = (path: string, text = '') => ({ url: `https://kestrel-looms.example${path}`, text });

/** A site held in memory: pages by URL; any other URL is unreadable, as a 404 would be. */
function siteOf(pages: Record<string, Partial<SitePage>>) {
  const asked: string[] = [];
  const reader: SiteReader = {
    name: 'memory',
    async fetchPage(url) {
      asked.push(url);
      const page = pages[url];
      if (!page) throw new PageUnreadable(`${url}: HTTP 404`);
      return { url, title: '', text: '', links: [], ...page };
    },
  };
  return { reader, asked };
}

describe('which links of a company site are read', () => {
  const ceo = fields({ ceo: { type: 'string', description: 'Chief executive' } });

  it('prefers the section that states a wanted field: the team page for a chief executive', () => {
    expect(linkScore(link('/leadership', 'Our leadership'), ceo)).toBeGreaterThan(linkScore(link('/careers', 'Careers'), ceo));
    expect(linkScore(link('/about', 'About'), ceo)).toBeGreaterThan(0);
    // The same team page matters less when nobody asked for people.
    expect(linkScore(link('/team'), fields({ founded_year: { type: 'integer' } }))).toBeLessThan(linkScore(link('/team'), ceo));
  });

  it('never reads sign-in, legal or file links', () => {
    for (const l of [link('/login', 'Log in'), link('/privacy-policy'), link('/legal/terms', 'Terms'), link('/annual-report.pdf', 'Report')]) {
      expect(linkScore(l, ceo), l.url).toBeLessThan(0);
    }
  });

  it("keeps to the company's site, skips the home page and repeats, and fills spare places in the menu's order", () => {
    const links = [
      link('/', 'Home'),
      { url: 'https://www.kestrel-looms.example/about', text: 'About' },
      link('/about/', 'About us'),
      { url: 'https://twitter.example/kestrel', text: 'About us on Twitter' },
      link('/looms', 'Our looms'),
      link('/team', 'Team'),
      link('/privacy'),
      link('/blog', 'Blog'),
    ];
    const picked = pickSiteLinks(links, 'https://kestrel-looms.example/', 'kestrel-looms.example', ceo, 3);
    expect(picked.map((l) => l.url)).toEqual([
      'https://kestrel-looms.example/team',
      'https://www.kestrel-looms.example/about',
      'https://kestrel-looms.example/looms',
    ]);
  });
});

describe('readCompanySite', () => {
  const wanted = fields({ founded_year: { type: 'integer' }, ceo: { type: 'string' } });

  it('reads the home page and the best pages it links to, the linked pages first', async () => {
    const { reader, asked } = siteOf({
      'https://kestrel-looms.example/': {
        title: 'Kestrel Looms',
        text: 'Weaving since 1998.',
        links: [link('/about', 'About'), link('/team', 'Team'), link('/looms', 'Looms'), link('/blog', 'Blog'), link('/jobs', 'Jobs')],
      },
      'https://kestrel-looms.example/about': { title: 'About', text: 'Founded: 1998' },
      'https://kestrel-looms.example/team': { title: 'Team', text: 'CEO: Anna de Wit' },
    });
    const reading = await readCompanySite('kestrel-looms.example', wanted, reader);
    expect(reading.problem).toBeUndefined();
    // Home plus SITE_PAGES - 1 linked pages asked for; the one that failed (a 404) is left out.
    expect(asked).toHaveLength(SITE_PAGES);
    expect(reading.pages.map((p) => p.url)).toEqual([
      'https://kestrel-looms.example/about',
      'https://kestrel-looms.example/team',
      'https://kestrel-looms.example/',
    ]);
    expect(reading.pages[1]).toMatchObject({ title: 'Team', content: 'CEO: Anna de Wit' });
  });

  it('tries www. when the bare domain does not answer', async () => {
    const { reader } = siteOf({ 'https://www.kestrel-looms.example/': { title: 'Kestrel Looms', text: 'Founded: 1998' } });
    const reading = await readCompanySite('kestrel-looms.example', wanted, reader);
    expect(reading.pages.map((p) => p.url)).toEqual(['https://www.kestrel-looms.example/']);
  });

  it('does not follow the site to another domain: the reading stops there and says where it was sent', async () => {
    const reader: SiteReader = {
      name: 'redirecting',
      fetchPage: async () => ({ url: 'https://parked-domains.example/kestrel-looms', title: 'For sale', text: 'This domain is for sale.', links: [] }),
    };
    const reading = await readCompanySite('kestrel-looms.example', wanted, reader);
    expect(reading.pages).toEqual([]);
    expect(reading.problem).toBe("The company's site kestrel-looms.example sends its visitors to another site (https://parked-domains.example/kestrel-looms)");
  });

  it('says why when the site gives nothing to read', async () => {
    const unreadable = await readCompanySite('kestrel-looms.example', wanted, siteOf({}).reader);
    expect(unreadable.pages).toEqual([]);
    expect(unreadable.problem).toMatch(/^The company's site could not be read: https:\/\/kestrel-looms\.example\/: HTTP 404; https:\/\/www\./);

    const empty = await readCompanySite('kestrel-looms.example', wanted, siteOf({ 'https://kestrel-looms.example/': { text: '' } }).reader);
    expect(empty.problem).toMatch(/had no text to read/);
  });
});
