/**
 * Everything a handler reads from its environment, read in one place and checked on first use.
 * API keys are never environment variables of a deployed function: there they come from Secrets Manager.
 * Locally (no AWS) the keys may come from the process environment.
 */
import { createHash } from 'node:crypto';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { ModelClass } from '../core/contracts';
import { DEFAULT_GEMINI_MODEL, DEFAULT_MODELS } from '../core/pricing';
import { DEFAULT_PROVIDER_LIMITS, PROVIDER_LIMIT_ENVIRONMENT, type ProviderLimitName } from '../core/provider-limits';
import { DEFAULT_DAILY_RESEARCH_UNITS, DEFAULT_RATE_LIMIT_PER_MINUTE } from '../core/quotas';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`configuration: environment variable ${name} is not set`);
  return value;
}

export const config = {
  get bucketName() {
    return required('BUCKET_NAME');
  },
  get jobsTableName() {
    return required('JOBS_TABLE_NAME');
  },
  get stateMachineArn() {
    return required('STATE_MACHINE_ARN');
  },
  /** The EXPRESS machine that runs one company's steps (the coordinator agent's research_company). */
  get companyStateMachineArn() {
    return required('COMPANY_STATE_MACHINE_ARN');
  },
  /**
   * The longest POST /research/single waits for a company before it answers 202 (tests shorten it). Unset: the
   * Lambda's remaining time less a margin, inside API Gateway's 29 s.
   */
  get singleResearchDeadlineMs() {
    const value = process.env.SINGLE_RESEARCH_DEADLINE_MS;
    return value ? Number(value) : undefined;
  },
  /** A2A tasks and push-notification configs. */
  get tasksTableName() {
    return required('TASKS_TABLE_NAME');
  },
  /** Published in the agent cards: where clients get tokens (OAuth2 client credentials). */
  get authTokenUrl() {
    return required('AUTH_TOKEN_URL');
  },
  /** How often a subscription to a batch task reads the job (DynamoDB reads cost little; every 2 s by default). */
  get jobPollIntervalMs() {
    return Number(process.env.A2A_JOB_POLL_MS ?? 2_000);
  },
  /** How a job's webhook is delivered: attempts and the first retry's wait (doubling, jittered). */
  get webhookDelivery() {
    return {
      attempts: Number(process.env.WEBHOOK_ATTEMPTS ?? 5),
      baseDelayMs: Number(process.env.WEBHOOK_RETRY_BASE_MS ?? 1_000),
      timeoutMs: 10_000,
      allowPrivateAddresses: this.allowPrivatePushUrls,
    };
  },
  /** Local runs only: webhooks and callback URLs on localhost and private addresses (never set on a deployed function). */
  get allowPrivatePushUrls() {
    return process.env.ALLOW_PRIVATE_WEBHOOK_URLS === 'true';
  },
  /** An agent's public base URL when it sits behind a custom domain; by default the request's own host. */
  get agentPublicUrl() {
    return process.env.AGENT_PUBLIC_URL || undefined;
  },
  /** Who runs this deployment, for the agent cards' `provider`: both set (`-c agentProviderName/agentProviderUrl`), or none. */
  get agentProvider(): { organization: string; url: string } | undefined {
    const organization = process.env.AGENT_PROVIDER_NAME;
    const url = process.env.AGENT_PROVIDER_URL;
    return organization && url ? { organization, url } : undefined;
  },
  /** Unset: no search cache. */
  get searchCacheTableName() {
    return process.env.SEARCH_CACHE_TABLE_NAME || undefined;
  },
  get searchCacheTtlSeconds() {
    return Number(process.env.SEARCH_CACHE_TTL_SECONDS ?? 7 * 24 * 3600);
  },
  /** Where research steps journal their answered searches (the search cache's table). Unset: no journal. */
  get searchJournalTableName() {
    return process.env.SEARCH_JOURNAL_TABLE_NAME || undefined;
  },
  /** The counters of the shared provider rate limits (lambdas/store/rate-limit-store.ts). Unset: no pacing. */
  get pacingTableName() {
    return process.env.PACING_TABLE_NAME || undefined;
  },
  /** Per minute, as the deployment was given them (lib/agents.ts), else the defaults. */
  get providerLimits(): Record<ProviderLimitName, number> {
    const limits = { ...DEFAULT_PROVIDER_LIMITS } as Record<ProviderLimitName, number>;
    for (const name of Object.keys(limits) as ProviderLimitName[]) {
      const value = process.env[PROVIDER_LIMIT_ENVIRONMENT[name]];
      if (value) limits[name] = Number(value);
    }
    return limits;
  },
  /** The longest one provider call waits for the shared limit (and less when the invocation would end first). */
  get pacingMaxWaitMs() {
    return Number(process.env.PACING_MAX_WAIT_MS || 60_000);
  },
  /** Per-client counters (lambdas/store/quota-store.ts). Unset: no rate limit and no daily quota. */
  get quotasTableName() {
    return process.env.QUOTAS_TABLE_NAME || undefined;
  },
  /** Read on every request, not once: a deployment (or a test) changes it without a new container. */
  get rateLimitPerMinute() {
    return Number(process.env.RATE_LIMIT_PER_MINUTE || DEFAULT_RATE_LIMIT_PER_MINUTE);
  },
  /** Research units (searches at most: lambdas/core/quotas.ts) per client per UTC day. */
  get dailyResearchUnits() {
    return Number(process.env.DAILY_RESEARCH_UNITS || DEFAULT_DAILY_RESEARCH_UNITS);
  },
  /** The deployment's Claude model of each class (CDK context llmSmallModel / llmLargeModel); tiers pick a class. */
  get llmModels(): Record<ModelClass, string> {
    return { small: process.env.LLM_SMALL_MODEL || DEFAULT_MODELS.small, large: process.env.LLM_LARGE_MODEL || DEFAULT_MODELS.large };
  },
  /** Local runs only: where company sites are read from (the web stand-in) instead of the web. */
  get webBaseUrl() {
    return process.env.WEB_BASE_URL || undefined;
  },
  get tavilyBaseUrl() {
    return process.env.TAVILY_BASE_URL || undefined;
  },
  get anthropicBaseUrl() {
    return process.env.ANTHROPIC_BASE_URL || undefined;
  },
  /** The Gemini model that runs Google searches (search_provider google or hybrid). */
  get geminiModel() {
    return process.env.GEMINI_MODEL || DEFAULT_GEMINI_MODEL;
  },
  get geminiBaseUrl() {
    return process.env.GEMINI_BASE_URL || undefined;
  },
};

/** Secrets are cached for five minutes per warm container: one Secrets Manager call, not one per company. */
const SECRET_MAX_AGE_SECONDS = 300;

export type KeyedProvider = 'tavily' | 'anthropic' | 'gemini';

export async function apiKey(provider: KeyedProvider): Promise<string> {
  const prefix = provider.toUpperCase();
  const fromEnvironment = process.env[`${prefix}_API_KEY`];
  if (fromEnvironment) return fromEnvironment;
  const secretArn = process.env[`${prefix}_SECRET_ARN`];
  if (!secretArn) throw new Error(`configuration: neither ${prefix}_API_KEY (local runs) nor ${prefix}_SECRET_ARN is set`);
  const secret = await getSecret<string>(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (!secret) throw new Error(`configuration: the secret ${secretArn} is empty`);
  return secret.trim();
}

/**
 * Which shared rate limit a provider's calls count against: one per API key, named by its secret's ARN (hashed, to keep
 * account details out of the table's keys), never by the key itself. Local runs take keys from the environment.
 */
export function providerLimitKey(provider: 'tavily' | 'anthropic' | 'gemini'): string {
  const secretArn = process.env[`${provider.toUpperCase()}_SECRET_ARN`];
  const source = secretArn ? createHash('sha256').update(secretArn).digest('hex').slice(0, 16) : 'local';
  return `${provider}#${source}`;
}
