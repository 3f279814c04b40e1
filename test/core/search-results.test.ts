import { describe, expect, it } from 'vitest';
import { cutText, dedupeHits, trimToBudget, urlKey } from '../../lambdas/core/search-results';
import type { SearchHit } from '../../lambdas/providers/search-provider';

const hit = (url: string, content: string, score = 0.5): SearchHit => ({ url, title: 'Page', content, score });

describe('urlKey', () => {
  it('folds the spellings of one page together', () => {
    const key = urlKey('https://acme.example/about');
    for (const url of [
      'https://www.acme.example/about',
      'https://ACME.example/about/',
      'http://acme.example/about',
      'https://acme.example/about#team',
      'https://acme.example/about?utm_source=news&utm_medium=email',
      'https://acme.example/about?gclid=abc&fbclid=def',
      ' https://acme.example/about ',
    ]) {
      expect(urlKey(url), url).toBe(key);
    }
  });

  it('keeps what tells pages apart: path case, other parameters (in any order), ports, subdomains', () => {
    expect(urlKey('https://acme.example/About')).not.toBe(urlKey('https://acme.example/about'));
    expect(urlKey('https://acme.example/news?page=2')).not.toBe(urlKey('https://acme.example/news?page=3'));
    expect(urlKey('https://acme.example/p?b=2&a=1&utm_campaign=x')).toBe(urlKey('https://acme.example/p?a=1&b=2'));
    expect(urlKey('https://acme.example:8443/')).not.toBe(urlKey('https://acme.example/'));
    expect(urlKey('https://shop.acme.example/')).not.toBe(urlKey('https://acme.example/'));
  });

  it('leaves non-web URLs whole but for the fragment, and text that is no URL as it is', () => {
    expect(urlKey('file:///corpus/acme/about.md#x')).toBe('file:///corpus/acme/about.md');
    expect(urlKey('not a url')).toBe('not a url');
  });
});

describe('dedupeHits', () => {
  it('keeps one hit per page, where it was first found, the better-scored one', () => {
    const hits = dedupeHits([
      hit('https://acme.example/about', 'first', 0.4),
      hit('https://acme.example/team', 'team', 0.9),
      hit('https://www.acme.example/about/?utm_source=x', 'second', 0.8),
    ]);
    expect(hits.map((h) => [h.url, h.content])).toEqual([
      ['https://www.acme.example/about/?utm_source=x', 'second'],
      ['https://acme.example/team', 'team'],
    ]);
  });

  it('prefers the longer text when the scores tie', () => {
    const [only] = dedupeHits([hit('https://acme.example/a', 'short', 1), hit('https://acme.example/a/', 'a longer body', 1)]);
    expect(only!.content).toBe('a longer body');
  });
});

describe('cutText', () => {
  it('cuts at a line end rather than through a fact', () => {
    const text = '- Founded: 2014\n- Total funding: $62 million';
    expect(cutText(text, 35)).toBe('- Founded: 2014');
  });

  it('falls back to a space, and to a hard cut only when there is none', () => {
    expect(cutText('alpha beta gamma delta', 13)).toBe('alpha beta');
    expect(cutText('abcdefghij', 4)).toBe('abcd');
    expect(cutText('short', 10)).toBe('short');
  });
});

describe('trimToBudget', () => {
  const long = (n: number) => Array.from({ length: n }, (_, i) => `line ${i} of the page`).join('\n');

  it('cuts each result to its share and stops when the total is spent', () => {
    const results = [hit('a', long(100)), hit('b', long(100)), hit('c', long(100))];
    const kept = trimToBudget(results, { perResultChars: 1_000, totalChars: 2_500 });
    expect(kept.map((r) => r.url)).toEqual(['a', 'b', 'c']);
    expect(kept[0]!.content.length).toBeLessThanOrEqual(1_000);
    expect(kept.reduce((sum, r) => sum + r.content.length, 0)).toBeLessThanOrEqual(2_500);
    // The third gets what is left, which is still worth reading.
    expect(kept[2]!.content.length).toBeGreaterThan(200);
  });

  it('drops a result rather than keep a stub of it, but keeps short results whole', () => {
    const kept = trimToBudget([hit('a', long(100)), hit('b', long(100)), hit('c', 'tiny')], { perResultChars: 1_000, totalChars: 1_100 });
    expect(kept.map((r) => r.url)).toEqual(['a']);
    expect(trimToBudget([hit('a', 'tiny'), hit('b', 'also tiny')], { perResultChars: 1_000, totalChars: 50 })).toHaveLength(2);
  });

  it('does not change the results it was given', () => {
    const results = [hit('a', long(100))];
    trimToBudget(results, { perResultChars: 100, totalChars: 100 });
    expect(results[0]!.content).toBe(long(100));
  });
});
