/**
 * Which company a page is about. Search engines answer a name with every company that bears it ("Mercury" is a
 * biotech in Boston and a forwarder in Rotterdam); these rules keep one company's pages and put the others' aside.
 *
 * The signal is the web address: a company's own site is named after it, so a host whose name holds the company's
 * name (mercury-bioworks.example, mercury-freight.example) is some company of that name — ours if it is the pinned
 * (or settled) domain, a namesake's otherwise. Pages elsewhere (news, directories) are kept unless they name a
 * namesake by its longer name ("Mercury Bioworks") without naming ours.
 */
import type { CompanyIdentity } from './contracts';

/** Legal forms and filler words say nothing about which company a page is about ("The Coca-Cola Company"). */
const GENERIC_NAME_WORDS = new Set([
  'inc', 'incorporated', 'ltd', 'limited', 'llc', 'gmbh', 'corp', 'corporation', 'co', 'plc', 'sa', 'ag', 'bv', 'nv',
  'oy', 'ab', 'srl', 'spa', 'the', 'company', 'group', 'holding', 'holdings', 'and', 'of',
]);

/** Lower-case words, accents dropped ("Zürich" and "Zurich" are the same word to a reader), joined by single spaces. */
export const words = (text: string) =>
  text.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '').replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

export function nameTokens(companyName: string): string[] {
  const all = words(companyName).split(' ').filter(Boolean);
  const distinctive = all.filter((t) => !GENERIC_NAME_WORDS.has(t));
  // A name made only of such words ("The Company") is all there is to match.
  return distinctive.length ? distinctive : all;
}

/** A page's host, lower-cased and without "www.", or undefined for what is not a URL with a host. */
export function hostOf(url: string): string | undefined {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host ? host.replace(/^www\./, '') : undefined;
  } catch {
    return undefined;
  }
}

// Second-level labels under which companies register (example.co.uk, example.com.au).
const SECOND_LEVEL = new Set(['co', 'com', 'org', 'net', 'ac', 'gov', 'edu', 'ltd', 'plc']);

/** The part of a host a company registers: "news.mercury-freight.example" → "mercury-freight.example". */
export function registrableDomain(host: string): string {
  const labels = host.split('.');
  if (labels.length <= 2) return host;
  const [second, top] = labels.slice(-2) as [string, string];
  const keep = top.length === 2 && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

export const withinDomain = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** The words of a domain's own name: "mercury-freight.example" → ["mercury", "freight"]. */
export function domainWords(domain: string): string[] {
  const registrable = registrableDomain(domain);
  const dot = registrable.indexOf('.');
  return (dot >= 0 ? registrable.slice(0, dot) : registrable).split(/[-_]+/).filter(Boolean);
}

/**
 * Whether a host looks like the own site of a company with this name: its registrable name holds every distinctive
 * word of the name, in order ("mercury-bioworks.example", "mercurybioworks.com" for "Mercury").
 */
export function isSiteOfNamesake(host: string, companyName: string): boolean {
  const compact = domainWords(host).join('');
  const tokens = nameTokens(companyName);
  return tokens.length > 0 && compact.includes(tokens.join(''));
}

/**
 * Whether a host looks like the own site of a company whose name begins like this one's ("orrery-toys.example" for
 * "Orrery Capital"): its registrable name starts with the name's first distinctive word. Only used once research
 * knows which site is the company's: such a site is then another company's, which can name ours (a disclaimer, a
 * comparison) and still describes itself. Not used to settle which site is ours: "Orrery Toys" is not "Orrery Capital".
 */
export function isSiteOfNameKin(host: string, companyName: string): boolean {
  const first = nameTokens(companyName)[0];
  // A short first word ("AB", "Go") begins too many unrelated names to say anything.
  return first !== undefined && first.length >= 4 && domainWords(host).join('').startsWith(first);
}

/** The words a namesake is known by, from its domain, when they say more than the bare name ("mercury bioworks"). */
function longerName(domain: string, companyName: string): string | undefined {
  const known = domainWords(domain).join(' ');
  return known.split(' ').length > nameTokens(companyName).length ? known : undefined;
}

/** Whether a text names a phrase, as whole words. */
export const mentionsPhrase = (text: string, phrase: string) => ` ${words(text)} `.includes(` ${words(phrase)} `);

export interface Page {
  url: string;
  title: string;
  content: string;
}

export interface PageVerdicts<P extends Page> {
  kept: P[];
  excluded: { page: P; reason: string }[];
  identity: CompanyIdentity;
}

/**
 * Sorts research's pages into the company's and other companies'. `pages` come best first. With a pinned domain (or
 * one an earlier round settled on) that domain is the company; without, the first namesake site among the pages
 * settles it, and any other namesake site is recorded in `other_entities` (the name is ambiguous: reflection says so).
 */
export function sortPagesByCompany<P extends Page>(
  pages: P[],
  companyName: string,
  known: { domain?: string | null; identity?: CompanyIdentity | null },
): PageVerdicts<P> {
  const pinned = !!known.domain;
  const settled = known.domain ?? known.identity?.domain ?? null;
  const sites = pages.map((page) => {
    const host = hostOf(page.url);
    return host && isSiteOfNamesake(host, companyName) ? registrableDomain(host) : undefined;
  });
  const target = settled ?? sites.find((site) => site !== undefined) ?? null;
  const others = new Set(known.identity?.other_entities ?? []);
  for (const site of sites) if (site && target && !withinDomain(site, target) && !withinDomain(target, site)) others.add(site);

  const kept: P[] = [];
  const excluded: PageVerdicts<P>['excluded'] = [];
  const namesakeNames = [...others].map((d) => longerName(d, companyName)).filter((n): n is string => !!n);
  const ourName = target ? longerName(target, companyName) : undefined;
  pages.forEach((page, i) => {
    const host = hostOf(page.url);
    const site = sites[i];
    if (!target || (host && withinDomain(host, target))) return kept.push(page);
    if (site) return excluded.push({ page, reason: `the site of another company named ${companyName} (${site})` });
    if (host && isSiteOfNameKin(host, companyName)) {
      // Not an "other entity" of the name: a company called differently is no reason to call the name ambiguous.
      const kin = registrableDomain(host);
      return excluded.push({ page, reason: `the site of another company whose name starts like ${companyName} (${kin})` });
    }
    const text = `${page.title}\n${page.content}`;
    const ours = text.toLowerCase().includes(target) || (ourName !== undefined && mentionsPhrase(text, ourName));
    const theirs = namesakeNames.find((name) => mentionsPhrase(text, name));
    if (theirs && !ours) return excluded.push({ page, reason: `about ${theirs}, another company named ${companyName}` });
    kept.push(page);
  });

  return {
    kept,
    excluded,
    identity: {
      domain: target,
      pinned,
      other_entities: [...others].sort(),
      excluded_pages: (known.identity?.excluded_pages ?? 0) + excluded.length,
    },
  };
}

/**
 * The evidence URLs that come from a namesake's own site, by that site: the signs that a record describes (partly)
 * a company other than the one its identity settled on, or, with nothing settled, several companies at once.
 */
export function evidenceEntities(urls: string[], companyName: string): Map<string, string[]> {
  const byEntity = new Map<string, string[]>();
  for (const url of urls) {
    const host = hostOf(url);
    if (!host || !isSiteOfNamesake(host, companyName)) continue;
    const entity = registrableDomain(host);
    byEntity.set(entity, [...(byEntity.get(entity) ?? []), url]);
  }
  return byEntity;
}

/** Phrases that name a namesake by its longer name, from the other entities' domains. */
export function namesakePhrases(identity: CompanyIdentity | null | undefined, companyName: string): string[] {
  return (identity?.other_entities ?? []).map((d) => longerName(d, companyName)).filter((n): n is string => !!n);
}
