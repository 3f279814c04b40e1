/**
 * Reading a company's own site instead of searching for it: its home page, then the pages its links say hold the
 * wanted fields (the about page for a founding year, the team page for a chief executive). A site costs no search
 * credits, which is what lets the economy tier stay under a search's price when the company's domain is known.
 */
import { hostOf, registrableDomain, withinDomain, words } from './company-identity';
import type { SchemaField } from './json-schema';
import { urlKey } from './search-results';
import type { SearchHit } from '../providers/search-provider';
import { PageUnreadable, type SiteLink, type SiteReader } from '../providers/site-reader';

/**
 * The home page and three more: at most a search's worth of text (a search brings five pages), so extraction costs
 * no more than it would after a search.
 */
export const SITE_PAGES = 4;

/**
 * Sections of a company site and what they tell. A link scores its section's `base` for naming it, and `wanted`
 * more when a field of the schema is the kind of thing the section states.
 */
const SECTIONS: { names: string[]; base: number; fieldWords: string[] }[] = [
  { names: ['about', 'company', 'who we are', 'our story', 'story', 'history', 'profile', 'overview', 'facts'], base: 3, fieldWords: ['founded', 'year', 'description', 'industry', 'history', 'mission'] },
  { names: ['team', 'leadership', 'management', 'people', 'founders', 'executives', 'board'], base: 2, fieldWords: ['ceo', 'founder', 'founders', 'executive', 'chief', 'leader', 'leadership', 'management', 'cto', 'cfo', 'board'] },
  { names: ['contact', 'locations', 'offices', 'imprint', 'impressum'], base: 1, fieldWords: ['headquarters', 'hq', 'address', 'location', 'office', 'city', 'country'] },
  { names: ['news', 'press', 'newsroom', 'media'], base: 1, fieldWords: ['funding', 'raised', 'investors', 'valuation', 'acquisition', 'ceo', 'revenue'] },
  { names: ['investors', 'investor relations'], base: 1, fieldWords: ['funding', 'revenue', 'valuation', 'ticker', 'stock', 'investors'] },
  { names: ['products', 'services', 'solutions', 'platform', 'offerings'], base: 1, fieldWords: ['products', 'product', 'services', 'service', 'offerings', 'solutions', 'platform'] },
  { names: ['careers', 'jobs'], base: 0, fieldWords: ['employee', 'employees', 'headcount', 'staff'] },
];
const WANTED = 2;
/** Pages that never state a company fact. */
const NEVER = ['login', 'log in', 'sign in', 'signin', 'sign up', 'cart', 'checkout', 'privacy', 'terms', 'cookie', 'cookies', 'legal notice'];
const NOT_A_PAGE = /\.(pdf|jpe?g|png|gif|svg|webp|zip|gz|mp4|mp3|docx?|xlsx?|pptx?)$/i;

const has = (text: string, phrase: string) => text.includes(` ${phrase} `);

/**
 * How promising a link is for the wanted fields: above 0 for a section that states them, 0 for a page that may
 * (a product line's page, named after it), below 0 for one that never does (sign-in, privacy, a PDF).
 */
export function linkScore(link: SiteLink, fields: SchemaField[]): number {
  let path = '';
  try {
    path = decodeURIComponent(new URL(link.url).pathname);
  } catch {
    return -1;
  }
  if (NOT_A_PAGE.test(path)) return -1;
  const said = ` ${words(`${path} ${link.text}`)} `;
  if (NEVER.some((phrase) => has(said, phrase))) return -1;
  const fieldText = ` ${words(fields.map((f) => `${f.name} ${f.label}`).join(' '))} `;
  let score = 0;
  for (const section of SECTIONS) {
    if (!section.names.some((name) => has(said, name))) continue;
    score += section.base;
    if (section.fieldWords.some((word) => has(fieldText, word))) score += WANTED;
  }
  // A link named like a field itself ("/products" for a products field) is worth reading whatever its section.
  for (const field of fields) {
    if (has(said, words(field.name))) score += WANTED;
  }
  return score;
}

/**
 * The links worth reading after the home page: on the company's site, not the home page, best first; when too few
 * name a promising section, the others the home page links to, in its order.
 */
export function pickSiteLinks(links: SiteLink[], homeUrl: string, domain: string, fields: SchemaField[], count: number): SiteLink[] {
  const site = registrableDomain(domain);
  const seen = new Set([urlKey(homeUrl)]);
  const scored: { link: SiteLink; score: number }[] = [];
  for (const link of links) {
    const host = hostOf(link.url);
    const key = urlKey(link.url);
    if (!host || !withinDomain(host, site) || seen.has(key)) continue;
    seen.add(key);
    const score = linkScore(link, fields);
    if (score >= 0) scored.push({ link, score });
  }
  // Stable: of equally promising links, the one the page lists first (menus put the main pages first).
  return scored.sort((a, b) => b.score - a.score).slice(0, count).map((s) => s.link);
}

export interface SiteReading {
  /** The pages read, as search hits: the research step treats them like any other results. */
  pages: SearchHit[];
  /** Set when the site gave nothing to read, saying why. */
  problem?: string;
}

const reason = (error: unknown) => (error instanceof PageUnreadable ? error.message : `unexpected: ${(error as Error)?.message ?? String(error)}`);

/** Reads the home page (`https://{domain}/`, else `https://www.{domain}/`) and the best `SITE_PAGES - 1` pages it links to. */
export async function readCompanySite(domain: string, fields: SchemaField[], reader: SiteReader): Promise<SiteReading> {
  const homes = domain.startsWith('www.') ? [`https://${domain}/`] : [`https://${domain}/`, `https://www.${domain}/`];
  let home;
  const problems: string[] = [];
  for (const url of homes) {
    try {
      home = await reader.fetchPage(url);
      break;
    } catch (error) {
      problems.push(reason(error));
    }
  }
  if (!home) return { pages: [], problem: `The company's site could not be read: ${problems.join('; ')}` };
  const landed = hostOf(home.url);
  if (!landed || !withinDomain(landed, registrableDomain(domain))) {
    // A site that sends its visitors elsewhere (a rebrand, a parent company, a parked domain) is not the one given:
    // searching tells which company the name and domain mean better than following it would.
    return { pages: [], problem: `The company's site ${domain} sends its visitors to another site (${home.url})` };
  }

  const picked = pickSiteLinks(home.links, home.url, domain, fields, SITE_PAGES - 1);
  // A page that fails is left out; the others still count.
  const read = await Promise.allSettled(picked.map((link) => reader.fetchPage(link.url)));
  const pages: SearchHit[] = [];
  read.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled' && outcome.value.text) {
      const page = outcome.value;
      // Ranked pages come before the home page, which is mostly slogans; the ranking's order is kept.
      pages.push({ url: page.url, title: page.title || picked[i]!.text, content: page.text, score: 1 - i / (SITE_PAGES * 2) });
    }
  });
  if (home.text) pages.push({ url: home.url, title: home.title, content: home.text, score: 0.5 });
  if (pages.length === 0) return { pages, problem: `The company's site had no text to read (${home.url})` };
  return { pages };
}
