import { describe, expect, it } from 'vitest';
import { batchRequestSchema, singleResearchRequestSchema, type ExtractionSchema } from '../../lambdas/core/contracts';
import { companyRunInput, executionInput, RUN_SETTING_KEYS, runSettings } from '../../lambdas/core/job-layout';
import { singleResearchUnits } from '../../lambdas/core/quotas';
import { creditsPerSearch, resolvePlan, TIERS } from '../../lambdas/core/tiers';

const extraction_schema: ExtractionSchema = { type: 'object', properties: { ceo: { type: 'string' } } };
const batch = (extra: Record<string, unknown> = {}) => batchRequestSchema.parse({ companies: ['Acme'], extraction_schema, ...extra });

describe('the tier table', () => {
  it('plans each tier as documented', () => {
    expect(TIERS).toEqual({
      economy: { max_iterations: 1, max_queries: 1, search_depth: 'basic', notes_model: 'none', extraction_model: 'small', read_site: true },
      standard: { max_iterations: 2, max_queries: 1, search_depth: 'basic', notes_model: 'none', extraction_model: 'small', read_site: false },
      deep: { max_iterations: 3, max_queries: 3, search_depth: 'advanced', notes_model: 'large', extraction_model: 'large', read_site: false },
    });
  });

  it('orders the tiers by what they may spend: search credits at most, and the models', () => {
    const credits = (tier: keyof typeof TIERS) => singleResearchUnits(TIERS[tier]);
    expect(credits('economy')).toBe(1);
    expect(credits('standard')).toBe(2);
    expect(credits('deep')).toBe(18);
    expect(creditsPerSearch('basic')).toBe(1);
    expect(creditsPerSearch('advanced')).toBe(2);
  });
});

describe('resolvePlan', () => {
  it('is the standard tier when a request names none', () => {
    expect(resolvePlan({})).toEqual({ tier: 'standard', ...TIERS.standard });
    expect(resolvePlan(batch())).toEqual({ tier: 'standard', ...TIERS.standard });
  });

  it("lets a request's own max_iterations and max_queries override its tier's, and nothing else", () => {
    expect(resolvePlan(batch({ tier: 'economy', max_iterations: 3 }))).toEqual({ tier: 'economy', ...TIERS.economy, max_iterations: 3 });
    expect(resolvePlan(batch({ tier: 'deep', max_queries: 1 }))).toEqual({ tier: 'deep', ...TIERS.deep, max_queries: 1 });
  });
});

describe('runSettings, what every company of a job runs with', () => {
  it("carries the tier's plan, and nothing that is the job's own (its spending cap stays on the job)", () => {
    expect(runSettings(batch({ tier: 'deep', max_cost_usd: 5 }))).toEqual({ extraction_schema, search_provider: 'tavily', tier: 'deep', ...TIERS.deep });
  });

  it('keeps the plan of settings it made before, as a redrive reads them back', () => {
    const stored = { ...runSettings(batch({ tier: 'economy' })), search_depth: 'advanced' as const };
    expect(runSettings(stored)).toEqual(stored);
  });

  it('runs a job saved before sites were read as it ran then: searching, even on economy', () => {
    const { read_site: _dropped, ...saved } = runSettings(batch({ tier: 'economy' }));
    expect(runSettings(saved as never)).toEqual({ ...saved, read_site: false });
  });

  it("resolves a pre-tier job's settings as standard, keeping their budgets", () => {
    const old = { extraction_schema, search_provider: 'tavily', max_iterations: 2, max_queries: 3 } as never;
    expect(runSettings(old)).toEqual({ extraction_schema, search_provider: 'tavily', ...TIERS.standard, tier: 'standard', max_iterations: 2, max_queries: 3 });
  });

  it('reaches every state: the execution input and a single run start with exactly the listed settings', () => {
    const settings = runSettings(batch({ tier: 'economy' }));
    const manifest = { bucket: 'b', key: 'k' };
    const input = executionInput('job', manifest, batch({ tier: 'economy' }));
    for (const key of RUN_SETTING_KEYS) expect(input[key], key).toEqual(settings[key]);

    const single = singleResearchRequestSchema.parse({ company_name: 'Acme', extraction_schema, tier: 'economy' });
    const { company_name: _name, ...options } = single;
    const start = companyRunInput('job', 0, 'Acme', options);
    expect(Object.keys(start).sort()).toEqual(
      ['job_id', 'index', 'company_name', 'domain', ...RUN_SETTING_KEYS, 'iteration', 'follow_up_queries', 'usage', 'record'].sort(),
    );
    expect(start).toMatchObject({ tier: 'economy', ...TIERS.economy });
  });
});
