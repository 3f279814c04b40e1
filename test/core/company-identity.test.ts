import { describe, expect, it } from 'vitest';
import { isSiteOfNameKin, isSiteOfNamesake, registrableDomain, sortPagesByCompany } from '../../lambdas/core/company-identity';

const page = (url: string, content: string, title = '') => ({ url, title, content });

describe('which company a page is about', () => {
  const capital = page('https://orrery-capital.example/about', 'Orrery Capital builds analytics for pension trustees.');
  const toys = page('https://orrery-toys.example/about', 'Orrery Toys has no connection with Orrery Capital. Employees: 27', 'Orrery Toys');
  const news = page('https://news.example/orrery', 'Orrery Capital hires 20 analysts in Leeds.');

  it('settles on the first site named after the company and keeps news pages that name it', () => {
    const sorted = sortPagesByCompany([capital, news], 'Orrery Capital', {});
    expect(sorted.identity).toMatchObject({ domain: 'orrery-capital.example', pinned: false, other_entities: [] });
    expect(sorted.kept).toEqual([capital, news]);
  });

  it("keeps out the site of a company whose name only begins the same, even when it names ours", () => {
    const sorted = sortPagesByCompany([toys, capital, news], 'Orrery Capital', {});
    // The toy maker's site does not settle the identity: its name is not the company's.
    expect(sorted.identity.domain).toBe('orrery-capital.example');
    expect(sorted.kept).toEqual([capital, news]);
    expect(sorted.excluded).toEqual([{ page: toys, reason: expect.stringMatching(/another company whose name starts like Orrery Capital \(orrery-toys\.example\)/) }]);
    // Not a namesake: the name is not called ambiguous for it.
    expect(sorted.identity.other_entities).toEqual([]);
  });

  it("keeps a namesake's own site out of a company pinned to its domain", () => {
    const sorted = sortPagesByCompany([capital, toys], 'Orrery', { domain: 'orrery-toys.example' });
    expect(sorted.kept).toEqual([toys]);
    expect(sorted.identity).toMatchObject({ domain: 'orrery-toys.example', pinned: true, other_entities: ['orrery-capital.example'], excluded_pages: 1 });
  });

  it('reads hosts the way a company registers them', () => {
    expect(registrableDomain('news.mercury-freight.example')).toBe('mercury-freight.example');
    expect(registrableDomain('shop.example.co.uk')).toBe('example.co.uk');
    expect(isSiteOfNamesake('mercury-bioworks.example', 'Mercury')).toBe(true);
    expect(isSiteOfNamesake('orrery-toys.example', 'Orrery Capital')).toBe(false);
    expect(isSiteOfNameKin('orrery-toys.example', 'Orrery Capital')).toBe(true);
    // Too short a first word to mean anything.
    expect(isSiteOfNameKin('gocardless.example', 'Go Freight')).toBe(false);
  });
});
