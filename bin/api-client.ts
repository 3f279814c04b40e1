/**
 * A small client of Dossier's REST API for the CLI: the same commands work against a deployed stack and against
 * `npm run serve`. Tokens come from DOSSIER_TOKEN, or from the client-credentials grant with DOSSIER_CLIENT_ID,
 * DOSSIER_CLIENT_SECRET and DOSSIER_TOKEN_URL (what the stack prints, or what `npm run serve` prints).
 */
import type { CompanyResult, JobView } from '../lambdas/core/contracts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string } | undefined,
    what: string,
  ) {
    super(`${what}: HTTP ${status}${body?.message ? `: ${body.message}` : body?.error ? `: ${body.error}` : ''}`);
  }
}

export type TokenSource = () => Promise<string>;

/** Where the token comes from, checked before anything is sent: a missing setting is said at once. */
export function tokenSourceFromEnvironment(env: NodeJS.ProcessEnv = process.env): TokenSource {
  const fixed = env.DOSSIER_TOKEN?.trim();
  if (fixed) return async () => fixed;
  const clientId = env.DOSSIER_CLIENT_ID?.trim();
  const clientSecret = env.DOSSIER_CLIENT_SECRET?.trim();
  const tokenUrl = env.DOSSIER_TOKEN_URL?.trim();
  if (!clientId || !clientSecret || !tokenUrl) {
    throw new Error('no credentials: set DOSSIER_TOKEN, or DOSSIER_CLIENT_ID, DOSSIER_CLIENT_SECRET and DOSSIER_TOKEN_URL');
  }
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(env.DOSSIER_SCOPE ? { scope: env.DOSSIER_SCOPE } : {}) }),
    });
    const body = (await response.json().catch(() => undefined)) as { access_token?: string; expires_in?: number; error?: string } | undefined;
    if (!response.ok || !body?.access_token) throw new ApiError(response.status, { error: body?.error }, `token request to ${tokenUrl}`);
    // Renewed a minute early: a token must not expire between the check and the call.
    cached = { token: body.access_token, until: Date.now() + ((body.expires_in ?? 3600) - 60) * 1000 };
    return cached.token;
  };
}

export interface JobResults {
  job_id: string;
  expires_at: string;
  results: { jsonl: string; csv: string };
}

export class DossierApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: TokenSource,
  ) {}

  private async call<T>(method: string, path: string, what: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${await this.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = (await response.json().catch(() => undefined)) as T;
    if (response.status >= 400) throw new ApiError(response.status, parsed as { error?: string; message?: string }, what);
    return { status: response.status, body: parsed };
  }

  async submitBatch(request: Record<string, unknown>, idempotencyKey?: string) {
    return (await this.call<{ job_id: string; status: string; total_companies: number }>('POST', '/research/batch', 'submitting the batch', request, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {})).body;
  }

  async job(jobId: string): Promise<JobView> {
    return (await this.call<JobView>('GET', `/jobs/${encodeURIComponent(jobId)}`, `reading job ${jobId}`)).body;
  }

  async results(jobId: string): Promise<JobResults> {
    return (await this.call<JobResults>('GET', `/jobs/${encodeURIComponent(jobId)}/results`, `reading the results of job ${jobId}`)).body;
  }

  async cancel(jobId: string): Promise<JobView> {
    return (await this.call<JobView>('POST', `/jobs/${encodeURIComponent(jobId)}/cancel`, `canceling job ${jobId}`)).body;
  }

  /** Runs the ended job's unfinished companies again; the job reopens. */
  async redrive(jobId: string): Promise<JobView & { redriven_companies: number }> {
    return (await this.call<JobView & { redriven_companies: number }>('POST', `/jobs/${encodeURIComponent(jobId)}/redrive`, `redriving job ${jobId}`)).body;
  }

  /** 200: the company's result; 202: the job to follow, when it could not finish within the API's time. */
  async single(request: Record<string, unknown>): Promise<{ status: 200; result: CompanyResult } | { status: 202; job: { job_id: string; status: string } }> {
    const answer = await this.call<any>('POST', '/research/single', 'researching the company', request);
    return answer.status === 202 ? { status: 202, job: answer.body } : { status: 200, result: answer.body };
  }
}
