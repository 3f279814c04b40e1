/**
 * What the research core needs to read a company's own site: one page at a time, as text plus its links.
 * One adapter reads the web directly (web-site-reader.ts); it costs no provider credits.
 */
export interface SiteLink {
  /** Absolute, resolved against the page it was on. */
  url: string;
  /** What the link says ("About us", "Leadership"). */
  text: string;
}

export interface SitePage {
  /** Where the page was read from, after redirects. */
  url: string;
  title: string;
  /** The page as plain text: what extraction reads and every quoted passage is checked against. */
  text: string;
  links: SiteLink[];
}

/** A page that cannot be read (robots.txt says no, 404, not HTML, too slow): the reason says which. */
export class PageUnreadable extends Error {
  override readonly name = 'PageUnreadable';
}

export interface SiteReader {
  readonly name: string;
  /** Rejects with PageUnreadable when the page cannot be read. */
  fetchPage(url: string): Promise<SitePage>;
}
