/** The research step: plan queries, search, keep what is about the company, write cited notes. */
import type { CompanyIdentity, ResearchInput, SearchResult, Source, Usage } from './contracts';
import { hostOf, nameTokens, sortPagesByCompany, withinDomain, words } from './company-identity';
import { fieldsOf, type SchemaField } from './json-schema';
import { notesPrompt, notesSystem, sourceList, type NumberedSource } from './prompts';
import { dedupeHits, trimToBudget, type ContentBudget } from './search-results';
import { addModelCall, addUsage } from './usage';
import { readCompanySite } from './company-site';
import type { LanguageModel } from '../providers/language-model';
import type { SearchHit, SearchProvider, SearchResponse } from '../providers/search-provider';
import type { SiteReader } from '../providers/site-reader';

export const RESULTS_PER_QUERY = 5;
/** Enough context for the notes without paying for whole pages of boilerplate. */
export const MAX_SOURCES = 8;
/** About 4,000 tokens of sources per round, whichever provider found them. */
export const CONTENT_BUDGET: ContentBudget = { perResultChars: 3_000, totalChars: 16_000 };
export const NOTES_MAX_TOKENS = 1_024;

export { nameTokens };

/**
 * A page counts as being about the company when it names it: the whole name, or all of its distinctive words.
 * Search engines always return something; this keeps pages about other companies out of the notes.
 */
export function mentionsCompany(hit: Pick<SearchHit, 'title' | 'content'>, companyName: string): boolean {
  const tokens = nameTokens(companyName);
  if (tokens.length === 0) return false;
  const text = ` ${words(`${hit.title} ${hit.content}`)} `;
  if (text.includes(` ${tokens.join(' ')} `)) return true;
  return tokens.every((t) => text.includes(` ${t} `));
}

/**
 * First iteration: the company alone (with its domain, when pinned, so the search leans to the right namesake), then
 * the wanted fields spread over the remaining queries.
 */
export function planQueries(companyName: string, fields: SchemaField[], followUps: string[], maxQueries: number, domain?: string | null): string[] {
  if (followUps.length > 0) return followUps.slice(0, maxQueries);
  const names = fields.map((f) => f.name.replace(/[_-]+/g, ' '));
  const subject = domain ? `${companyName} ${domain}` : companyName;
  if (maxQueries === 1) return [`${subject} ${names.join(' ')}`.trim()];
  const groups: string[][] = Array.from({ length: Math.min(maxQueries - 1, Math.max(names.length, 1)) }, () => []);
  names.forEach((name, i) => groups[i % groups.length]!.push(name));
  return [subject, ...groups.filter((g) => g.length).map((g) => `${companyName} ${g.join(' ')}`)];
}

export interface ResearchDeps {
  search: SearchProvider;
  /** The model the input's `model` class names; needed only when it is not `none`. */
  model?: LanguageModel;
  /** Reads the company's own site; needed only when the input asks to (`read_site`). */
  site?: SiteReader;
}

export interface ResearchFindings {
  /** Where the pages came from: a search, or the company's own site (economy, with the domain known). */
  read_from: 'search' | 'site';
  research_queries: string[];
  /** Every result the searches returned, bodies included: the handler stores these, not the state. */
  raw_results: SearchResult[];
  /** The pages the notes cite, numbered [n] as the notes cite them. */
  sources: Source[];
  research_notes: string;
  /** Which company the pages were kept for, and which namesakes' were put aside. */
  identity: CompanyIdentity;
  /** Pages that named the company but were another company's, with why. */
  excluded: { url: string; reason: string }[];
  results_found: number;
  duration_seconds: number;
  usage: Usage;
}

export async function research(input: ResearchInput, deps: ResearchDeps, now: () => number = Date.now): Promise<ResearchFindings> {
  const started = now();
  const fields = fieldsOf(input.extraction_schema);

  // A first round that may read the company's own site does, when the domain is known: no search is bought unless
  // the site gives nothing to read.
  let sitePages: SearchHit[] | undefined;
  let siteProblem: string | undefined;
  if (input.read_site && input.domain && input.follow_up_queries.length === 0) {
    if (!deps.site) throw new Error('research: the input asks to read the site, but no site reader was given');
    const reading = await readCompanySite(input.domain, fields, deps.site);
    if (reading.pages.length > 0) sitePages = reading.pages;
    else siteProblem = reading.problem;
  }
  const queries = sitePages ? [] : planQueries(input.company_name, fields, input.follow_up_queries, input.max_queries, input.domain);

  // Every search is let finish before a failure is reported: an answer that arrives is kept (the search journal)
  // and not bought again when the step is retried.
  const settled = await Promise.allSettled(
    queries.map((q) => deps.search.search(q, { maxResults: RESULTS_PER_QUERY, depth: input.search_depth })),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const responses = settled.map((s) => (s as PromiseFulfilledResult<SearchResponse>).value);
  let usage = addUsage(input.usage, {
    search_queries: queries.length,
    search_credits: responses.reduce((sum, r) => sum + r.credits, 0),
  });

  // The same page often answers several queries, or both providers of a hybrid search: it counts once.
  const raw = dedupeHits(sitePages ?? responses.flatMap((r) => r.hits));
  // A page on the pinned domain is the company's even where it does not repeat the name.
  const onDomain = (hit: SearchHit) => {
    const host = hostOf(hit.url);
    return !!input.domain && !!host && withinDomain(host, input.domain);
  };
  const mentioning = raw.filter((hit) => onDomain(hit) || mentionsCompany(hit, input.company_name)).sort((a, b) => b.score - a.score);
  const sorted = sortPagesByCompany(mentioning, input.company_name, { domain: input.domain, identity: input.identity });
  const relevant = sorted.kept.slice(0, MAX_SOURCES);

  const numbered: NumberedSource[] = trimToBudget(relevant, CONTENT_BUDGET).map((hit, i) => ({
    id: i + 1,
    url: hit.url,
    title: hit.title,
    content: hit.content,
  }));

  let notes: string;
  if (numbered.length === 0) {
    // Nothing to read: asking the model would only invite it to answer from memory.
    notes = sorted.excluded.length
      ? `No search result was about ${input.company_name}; ${sorted.excluded.length} about other companies of that name were left out.`
      : `No search result mentioned ${input.company_name}.`;
  } else if (input.model === 'none') {
    // No notes call: extraction reads the pages themselves; the notes say which pages there are.
    notes = `No notes were written for this round; the pages read:\n${sourceList(numbered)}`;
  } else {
    if (!deps.model) throw new Error(`research: notes by the ${input.model} model, but no model was given`);
    const written = await deps.model.write({
      system: notesSystem(fields),
      prompt: notesPrompt(input.company_name, numbered),
      maxTokens: NOTES_MAX_TOKENS,
    });
    usage = addModelCall(usage, written.usage);
    notes = `${written.text}\n\nSources:\n${sourceList(numbered)}`;
  }

  if (sitePages) notes = `Read from the company's own site (${input.domain}); no search was made.\n${notes}`;
  else if (siteProblem) notes = `${siteProblem}; searched instead.\n${notes}`;

  return {
    read_from: sitePages ? 'site' : 'search',
    research_queries: queries,
    raw_results: raw.map(({ url, title, content }) => ({ url, title, content })),
    sources: numbered.map(({ id, url, title }) => ({ id, url, title })),
    research_notes: notes,
    identity: sorted.identity,
    excluded: sorted.excluded.map(({ page, reason }) => ({ url: page.url, reason })),
    results_found: raw.length,
    duration_seconds: Math.round((now() - started) / 10) / 100,
    usage,
  };
}
