import { describe, expect, it } from 'vitest';
import { zeroUsage, type ExtractionSchema, type ResearchInput } from '../../lambdas/core/contracts';
import { fieldsOf } from '../../lambdas/core/json-schema';
import { CONTENT_BUDGET, MAX_SOURCES, mentionsCompany, nameTokens, planQueries, research } from '../../lambdas/core/research';
import type { LanguageModel, TokenUsage, WriteRequest } from '../../lambdas/providers/language-model';
import type { SearchHit, SearchProvider } from '../../lambdas/providers/search-provider';
import { PageUnreadable, type SitePage, type SiteReader } from '../../lambdas/providers/site-reader';

const schema: ExtractionSchema = {
  type: 'object',
  properties: { founded: { type: 'integer' }, headquarters: { type: 'string' }, total_funding: { type: 'string' } },
};

function researchInput(overrides: Partial<ResearchInput> = {}): ResearchInput {
  return {
    company_name: 'Northwind Robotics',
    extraction_schema: schema,
    search_provider: 'tavily',
    max_queries: 3,
    follow_up_queries: [],
    search_depth: 'basic',
    model: 'small',
    read_site: false,
    usage: zeroUsage(),
    ...overrides,
  };
}

/** Answers every query with the same hits, unless a query has its own. */
function fakeSearch(hits: SearchHit[], byQuery: Record<string, SearchHit[]> = {}, credits = 1) {
  const queries: string[] = [];
  const provider: SearchProvider = {
    name: 'fake',
    async search(query) {
      queries.push(query);
      return { hits: byQuery[query] ?? hits, credits };
    },
  };
  return { provider, queries };
}

function fakeModel(text = '- Founded: 2011 [1]', usage: TokenUsage = { model: 'fake-model', input_tokens: 1000, output_tokens: 200 }) {
  const requests: WriteRequest[] = [];
  const model: LanguageModel = {
    model: 'fake-model',
    async write(request) {
      requests.push(request);
      return { text, usage };
    },
    async structured() {
      throw new Error('research never asks for structured output');
    },
  };
  return { model, requests };
}

const hit = (url: string, content: string, score = 0.5, title = 'Page'): SearchHit => ({ url, title, content, score });

describe('nameTokens', () => {
  it('lower-cases the name, splits it into words and drops legal forms', () => {
    expect(nameTokens('Northwind Robotics, Inc.')).toEqual(['northwind', 'robotics']);
    expect(nameTokens('Bluefin Analytics GmbH')).toEqual(['bluefin', 'analytics']);
  });
});

describe('mentionsCompany', () => {
  it('matches a page naming the company, ignoring legal suffixes and punctuation', () => {
    expect(mentionsCompany({ title: 'About', content: 'Northwind Robotics builds robots.' }, 'Northwind Robotics Inc')).toBe(true);
    expect(mentionsCompany({ title: 'Bluefin Analytics: ocean data', content: '' }, 'Bluefin Analytics GmbH')).toBe(true);
  });

  it('matches when every distinctive word appears, even apart', () => {
    expect(mentionsCompany({ title: 'Robotics news', content: 'Northwind closed a round.' }, 'Northwind Robotics')).toBe(true);
  });

  it('rejects a page about a different company sharing one word', () => {
    expect(mentionsCompany({ title: 'Northwind Traders', content: 'A food distributor.' }, 'Northwind Robotics')).toBe(false);
  });

  it('matches whole words only', () => {
    expect(mentionsCompany({ title: 'Acmeville weather', content: '' }, 'Acme')).toBe(false);
  });
});

describe('planQueries', () => {
  const fields = fieldsOf(schema);

  it('starts with the company alone, then spreads the fields over the remaining queries', () => {
    const queries = planQueries('Acme', fields, [], 3);
    expect(queries).toHaveLength(3);
    expect(queries[0]).toBe('Acme');
    const rest = queries.slice(1).join(' ');
    for (const word of ['founded', 'headquarters', 'total funding']) expect(rest).toContain(word);
    for (const query of queries) expect(query.startsWith('Acme')).toBe(true);
  });

  it('puts everything in one query when only one is allowed', () => {
    expect(planQueries('Acme', fields, [], 1)).toEqual(['Acme founded headquarters total funding']);
  });

  it('uses the follow-up queries instead of a plan, up to the limit', () => {
    expect(planQueries('Acme', fields, ['Acme ceo', 'Acme employees', 'Acme revenue'], 2)).toEqual(['Acme ceo', 'Acme employees']);
  });
});

describe('research', () => {
  it('keeps only results that mention the company', async () => {
    const search = fakeSearch([
      hit('https://northwind.example/about', 'Northwind Robotics was founded in 2011.', 0.9),
      hit('https://other.example/traders', 'Northwind Traders sells food.', 0.95),
    ]);
    const findings = await research(researchInput(), { search: search.provider, model: fakeModel().model });
    expect(findings.sources.map((s) => s.url)).toEqual(['https://northwind.example/about']);
    expect(findings.results_found).toBe(2);
    expect(findings.raw_results.map((r) => r.url)).toContain('https://other.example/traders');
  });

  it('keeps a page found by several queries once', async () => {
    const page = hit('https://northwind.example/about', 'Northwind Robotics, Lyon.', 0.8);
    const search = fakeSearch([page]);
    const { model, requests } = fakeModel();
    const findings = await research(researchInput(), { search: search.provider, model });
    expect(search.queries).toHaveLength(3);
    expect(findings.sources).toEqual([{ id: 1, url: page.url, title: page.title }]);
    expect(findings.raw_results).toHaveLength(1);
    expect(requests[0]!.prompt.match(/northwind\.example\/about/g)).toHaveLength(1);
  });

  it('counts a page once however its URL is spelt, as two providers may spell it', async () => {
    const search = fakeSearch([], {
      'Northwind Robotics': [hit('https://northwind.example/about', 'Northwind Robotics, Lyon.', 0.8)],
      'Northwind Robotics founded headquarters total funding': [hit('https://www.northwind.example/about/?utm_source=search', 'Northwind Robotics, Lyon, 2011.', 0.8)],
    });
    const findings = await research(researchInput({ max_queries: 2 }), { search: search.provider, model: fakeModel().model });
    expect(search.queries).toEqual(['Northwind Robotics', 'Northwind Robotics founded headquarters total funding']);
    expect(findings.raw_results).toHaveLength(1);
    expect(findings.sources).toHaveLength(1);
  });

  it('gives the model no more source text than the content budget', async () => {
    const page = (i: number) => `Northwind Robotics, page ${i}.\n${'- Fact: a long line of text about the company\n'.repeat(120)}`;
    const hits = Array.from({ length: MAX_SOURCES }, (_, i) => hit(`https://news.example/${i}`, page(i), 1 - i / 10));
    const { model, requests } = fakeModel();
    await research(researchInput({ max_queries: 1 }), { search: fakeSearch(hits).provider, model });
    const sources = [...requests[0]!.prompt.matchAll(/<source\b[^>]*>([\s\S]*?)<\/source>/g)].map((m) => m[1]!.trim());
    expect(sources.length).toBeGreaterThan(1);
    for (const content of sources) expect(content.length).toBeLessThanOrEqual(CONTENT_BUDGET.perResultChars);
    expect(sources.reduce((sum, content) => sum + content.length, 0)).toBeLessThanOrEqual(CONTENT_BUDGET.totalChars);
    // Cut at line ends: every line given is a whole one.
    for (const content of sources) expect(content.split('\n').at(-1)).toMatch(/company$|\.$/);
  });

  it('ranks sources by score and caps them', async () => {
    const hits = Array.from({ length: MAX_SOURCES + 3 }, (_, i) =>
      hit(`https://news.example/${i}`, 'Northwind Robotics news', i / 20),
    );
    const findings = await research(researchInput({ max_queries: 1 }), { search: fakeSearch(hits).provider, model: fakeModel().model });
    expect(findings.sources).toHaveLength(MAX_SOURCES);
    expect(findings.sources[0]!.url).toBe(`https://news.example/${MAX_SOURCES + 2}`);
  });

  it('does not ask the model when nothing relevant was found, and says so', async () => {
    const search = fakeSearch([hit('https://other.example', 'Nothing about them here.')]);
    const { model, requests } = fakeModel();
    const findings = await research(researchInput(), { search: search.provider, model });
    expect(requests).toHaveLength(0);
    expect(findings.sources).toEqual([]);
    expect(findings.research_notes).toBe('No search result mentioned Northwind Robotics.');
    expect(findings.usage.llm).toEqual({});
  });

  it('writes no notes with the model when the tier has no notes model: the notes list the pages extraction will read', async () => {
    const search = fakeSearch([hit('https://northwind.example/about', 'Northwind Robotics, Lyon.', 0.6)]);
    const { model, requests } = fakeModel('- HQ: Lyon [1]');
    const findings = await research(researchInput({ model: 'none' }), { search: search.provider, model });
    expect(requests).toHaveLength(0);
    expect(findings.usage.llm).toEqual({});
    expect(findings.research_notes).toBe('No notes were written for this round; the pages read:\n[1] https://northwind.example/about');
    expect(findings.sources.map((s) => s.url)).toEqual(['https://northwind.example/about']);
  });

  it('ends the notes with a numbered list of the sources it returns', async () => {
    const search = fakeSearch([
      hit('https://northwind.example/about', 'Northwind Robotics, Lyon.', 0.6),
      hit('https://news.example/series-d', 'Northwind Robotics raised $1.2 billion.', 0.9),
    ]);
    const findings = await research(researchInput(), { search: search.provider, model: fakeModel('- HQ: Lyon [2]').model });
    expect(findings.research_notes.startsWith('- HQ: Lyon [2]')).toBe(true);
    const list = findings.research_notes.split('\nSources:\n')[1];
    expect(list).toBe('[1] https://news.example/series-d\n[2] https://northwind.example/about');
    expect(findings.sources.map((s) => s.url)).toEqual(['https://news.example/series-d', 'https://northwind.example/about']);
  });

  it('adds its searches and tokens to the usage it was given', async () => {
    const search = fakeSearch([hit('https://northwind.example', 'Northwind Robotics')], {}, 2);
    const { model } = fakeModel('notes', { model: 'claude-haiku-4-5', input_tokens: 1500, output_tokens: 300, cache_read_tokens: 1200 });
    const earlier = { input_tokens: 100, output_tokens: 10, cache_write_tokens: 1200, cache_read_tokens: 0 };
    const findings = await research(
      researchInput({ usage: { search_queries: 3, search_credits: 3, llm: { 'claude-sonnet-4-6': earlier }, lambda_gb_seconds: 1 } }),
      { search: search.provider, model },
    );
    // Tokens are kept under the model that answered, cache reads apart from the rest of the input.
    expect(findings.usage).toEqual({
      search_queries: 6,
      search_credits: 9,
      llm: {
        'claude-sonnet-4-6': earlier,
        'claude-haiku-4-5': { input_tokens: 1500, output_tokens: 300, cache_write_tokens: 0, cache_read_tokens: 1200 },
      },
      lambda_gb_seconds: 1,
    });
  });

  it('runs the follow-up queries instead of the planned ones', async () => {
    const search = fakeSearch([hit('https://northwind.example', 'Northwind Robotics')]);
    const findings = await research(
      researchInput({ follow_up_queries: ['Northwind Robotics total funding'] }),
      { search: search.provider, model: fakeModel().model },
    );
    expect(search.queries).toEqual(['Northwind Robotics total funding']);
    expect(findings.research_queries).toEqual(['Northwind Robotics total funding']);
    expect(findings.usage.search_queries).toBe(1);
  });

  it('ignores the legal suffix of the name when judging relevance', async () => {
    const search = fakeSearch([hit('https://bluefin.example', 'Bluefin Analytics sells ocean data.')]);
    const findings = await research(researchInput({ company_name: 'Bluefin Analytics GmbH' }), {
      search: search.provider,
      model: fakeModel().model,
    });
    expect(findings.sources.map((s) => s.url)).toEqual(['https://bluefin.example']);
  });

  it('reports its duration from the clock it is given', async () => {
    const ticks = [1_000, 3_500];
    const findings = await research(researchInput(), { search: fakeSearch([]).provider, model: fakeModel().model }, () => ticks.shift()!);
    expect(findings.duration_seconds).toBe(2.5);
  });

  it('ignores filler words of a name, unless the name is nothing else', () => {
    expect(nameTokens('The Coca-Cola Company')).toEqual(['coca', 'cola']);
    expect(mentionsCompany({ title: 'Coca-Cola reports results', content: '' }, 'The Coca-Cola Company')).toBe(true);
    expect(nameTokens('The Group')).toEqual(['the', 'group']);
  });

  it('matches a name whether or not the page writes its accents', () => {
    expect(nameTokens('Zürich Insurance')).toEqual(['zurich', 'insurance']);
    expect(mentionsCompany({ title: 'Zurich Insurance Group', content: '' }, 'Zürich Insurance')).toBe(true);
    expect(mentionsCompany({ title: 'Société Générale annual report', content: '' }, 'Societe Generale')).toBe(true);
  });
});

describe('research: the right company', () => {
  const bioworks = hit('https://mercury-bioworks.example/team', 'Mercury Bioworks is led by Priya Venkataraman.', 0.9, 'Mercury Bioworks');
  const freight = hit('https://mercury-freight.example/news', 'Mercury Freight has appointed Joris van Heemstede.', 0.8, 'Mercury Freight');
  const freightAbout = hit('https://mercury-freight.example/about', 'Founded: 2003', 0.3, 'Company profile');
  const pressOnBioworks = hit('https://news.example/a', 'Mercury Bioworks raised a Series B.', 0.7);
  const pressOnFreight = hit('https://news.example/b', 'Mercury Freight adds barges.', 0.6);

  it("keeps a namesake's pages out of a company pinned to its domain, its own pages in even where they do not name it", async () => {
    const search = fakeSearch([bioworks, freight, freightAbout, pressOnBioworks, pressOnFreight]);
    const { model } = fakeModel();
    const findings = await research(researchInput({ company_name: 'Mercury', domain: 'mercury-freight.example' }), { search: search.provider, model });
    expect(findings.sources.map((s) => s.url)).toEqual([freight.url, pressOnFreight.url, freightAbout.url]);
    expect(findings.excluded).toEqual([
      { url: bioworks.url, reason: 'the site of another company named Mercury (mercury-bioworks.example)' },
      { url: pressOnBioworks.url, reason: 'about mercury bioworks, another company named Mercury' },
    ]);
    expect(findings.identity).toEqual({ domain: 'mercury-freight.example', pinned: true, other_entities: ['mercury-bioworks.example'], excluded_pages: 2 });
    // The first query names the domain, so the search leans to the right Mercury.
    expect(search.queries[0]).toBe('Mercury mercury-freight.example');
  });

  it('settles an ambiguous name on the best-ranked company, and stays with it in later rounds', async () => {
    const { model } = fakeModel();
    const first = await research(researchInput({ company_name: 'Mercury' }), { search: fakeSearch([bioworks, freight, pressOnFreight]).provider, model });
    expect(first.identity).toMatchObject({ domain: 'mercury-bioworks.example', pinned: false, other_entities: ['mercury-freight.example'] });
    expect(first.sources.map((s) => s.url)).toEqual([bioworks.url]);

    // A later round finds the other company first: the identity the record carries keeps it out.
    const later = await research(researchInput({ company_name: 'Mercury', identity: first.identity, follow_up_queries: ['Mercury CEO'] }), {
      search: fakeSearch([freight, bioworks]).provider,
      model,
    });
    expect(later.sources.map((s) => s.url)).toEqual([bioworks.url]);
    expect(later.identity.domain).toBe('mercury-bioworks.example');
  });

  it('says so in the notes, without asking the model, when every page was another company', async () => {
    const { model, requests } = fakeModel();
    const findings = await research(researchInput({ company_name: 'Mercury', domain: 'mercury-freight.example' }), {
      search: fakeSearch([bioworks]).provider,
      model,
    });
    expect(requests).toHaveLength(0);
    expect(findings.sources).toEqual([]);
    expect(findings.research_notes).toBe('No search result was about Mercury; 1 about other companies of that name were left out.');
  });
});

describe("research: the company's own site (the economy tier)", () => {
  const home = 'https://northwind-robotics.example/';
  const site = (pages: Record<string, Partial<SitePage>>) => {
    const reader: SiteReader = {
      name: 'memory',
      async fetchPage(url) {
        const page = pages[url];
        if (!page) throw new PageUnreadable(`${url}: HTTP 404`);
        return { url, title: 'Northwind Robotics', text: '', links: [], ...page };
      },
    };
    return reader;
  };
  const readable = site({
    [home]: { text: 'Robots for warehouses.', links: [{ url: `${home}about`, text: 'About us' }] },
    [`${home}about`]: { title: 'About', text: 'Founded: 2011. Headquarters: Leeds.' },
  });

  it('reads the site instead of searching when the domain is known: no query, no credit, the pages as sources', async () => {
    const search = fakeSearch([hit('https://elsewhere.example', 'Northwind Robotics news')]);
    const findings = await research(
      researchInput({ read_site: true, domain: 'northwind-robotics.example', model: 'none' }),
      { search: search.provider, site: readable },
    );
    expect(search.queries).toEqual([]);
    expect(findings).toMatchObject({ read_from: 'site', research_queries: [] });
    expect(findings.usage).toMatchObject({ search_queries: 0, search_credits: 0 });
    expect(findings.sources.map((s) => s.url)).toEqual([`${home}about`, home]);
    expect(findings.raw_results[0]).toMatchObject({ url: `${home}about`, content: 'Founded: 2011. Headquarters: Leeds.' });
    expect(findings.research_notes).toMatch(/^Read from the company's own site \(northwind-robotics\.example\); no search was made\./);
  });

  it('searches once when the site gives nothing to read, and says why in the notes', async () => {
    const search = fakeSearch([hit('https://news.example/northwind', 'Northwind Robotics was founded in 2011.')]);
    const findings = await research(
      researchInput({ read_site: true, domain: 'northwind-robotics.example', model: 'none', max_queries: 1 }),
      { search: search.provider, site: site({}) },
    );
    expect(search.queries).toHaveLength(1);
    expect(findings.read_from).toBe('search');
    expect(findings.usage.search_credits).toBe(1);
    expect(findings.research_notes).toMatch(/^The company's site could not be read: .*HTTP 404.*; searched instead\./);
  });

  it('searches as usual without a domain, and in a follow-up round', async () => {
    const withoutDomain = fakeSearch([hit('https://news.example/northwind', 'Northwind Robotics news')]);
    await research(researchInput({ read_site: true, model: 'none' }), { search: withoutDomain.provider, site: readable });
    expect(withoutDomain.queries.length).toBeGreaterThan(0);

    const followUp = fakeSearch([hit('https://news.example/northwind', 'Northwind Robotics news')]);
    const findings = await research(
      researchInput({ read_site: true, domain: 'northwind-robotics.example', model: 'none', follow_up_queries: ['Northwind Robotics CEO'] }),
      { search: followUp.provider, site: readable },
    );
    expect(followUp.queries).toEqual(['Northwind Robotics CEO']);
    expect(findings.read_from).toBe('search');
  });
});
