/** A client of the local services' REST API, as the job tests call it: tokens from the local issuer, JSON answers. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { LocalServices } from '../../local/local-services';

const exampleSchema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));

export function restClient(services: () => LocalServices) {
  const tokenFor = (subject: string, scopes?: string[]) => services().issuer.mintToken({ subject, ...(scopes ? { scopes } : {}) });
  const call = async (bearer: string, method: 'GET' | 'POST', path: string) => {
    const response = await fetch(`${services().restUrl}${path}`, { method, headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as any };
  };
  /** Submits a batch of one iteration on the example schema; the job id of its 202. */
  const submit = async (bearer: string, companies: string[]): Promise<string> => {
    const response = await fetch(`${services().restUrl}/research/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ companies, extraction_schema: exampleSchema, max_iterations: 1 }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { job_id: string }).job_id;
  };
  return { tokenFor, call, submit };
}
