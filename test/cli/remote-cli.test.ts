/**
 * The CLI against a Dossier REST API, as a user runs it against a deployed stack: here the API is `dossier serve`'s,
 * started in this process, and the CLI runs in a child process with credentials in its environment.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServices, type LocalServices } from '../../local/local-services';

const exec = promisify(execFile);
let services: LocalServices;
let credentials: Record<string, string>;
const scratch = mkdtempSync(path.join(tmpdir(), 'dossier-remote-cli-'));

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
  // The client-credentials grant, as against Cognito: the CLI gets its own token.
  credentials = {
    DOSSIER_API_URL: services.restUrl,
    DOSSIER_CLIENT_ID: services.issuer.clientId,
    DOSSIER_CLIENT_SECRET: services.issuer.clientSecret,
    DOSSIER_TOKEN_URL: services.issuer.tokenUrl,
  };
}, 120_000);

afterAll(async () => {
  await services?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function dossier(args: string[], env: Record<string, string> = credentials): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DOSSIER_')));
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'bin/dossier.ts', ...args], { env: { ...clean, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('dossier submit and watch against the REST API', () => {
  it('submits a CSV, follows the job to the end, and the job is the caller’s', async () => {
    const companies = path.join(scratch, 'companies.csv');
    writeFileSync(companies, 'company_name\nBrightgull Robotics\n"Mercury Freight"\n');
    const submitted = await dossier(['submit', companies, '--schema', 'examples/schema.json', '--max-iterations', '1', '--watch']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const [jobId, ...progress] = submitted.stdout.trim().split('\n');
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    // The line ends with what the job has spent so far.
    expect(progress.at(-1)).toMatch(/2\/2 {2}completed 2 {2}failed 0 {2}\$0\.\d{4} {2}\(completed\)/);

    const watched = await dossier(['watch', jobId!]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain(`${jobId}: completed`);

    const out = path.join(scratch, 'out');
    const downloaded = await dossier(['results', jobId!, '--out', out]);
    expect(downloaded.code, downloaded.stderr).toBe(0);
    const lines = readFileSync(path.join(out, jobId!, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.company_name)).toEqual(['Brightgull Robotics', 'Mercury Freight']);
    expect(readFileSync(path.join(out, jobId!, 'results.csv'), 'utf8').split('\r\n')[0]).toContain('company_name');
  });

  it('researches one company in real time and prints its result', async () => {
    const single = await dossier(['single', 'Brightgull Robotics', '--schema', 'examples/schema.json', '--max-iterations', '1']);
    expect(single.code, single.stderr).toBe(0);
    expect(JSON.parse(single.stdout)).toMatchObject({ company_name: 'Brightgull Robotics', status: 'completed', data: { ceo: 'Mette Langgaard' } });
  });

  it('redrives a canceled batch to the end, and says why a job cannot be canceled or redriven', async () => {
    // Submitted and canceled over HTTP at once (a CLI process starts too slowly to catch a small batch running).
    const token = await services.issuer.mintToken({ subject: services.issuer.clientId });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const companies = Array.from({ length: 60 }, (_, i) => `Cli ${i} Resumers`);
    const body = JSON.stringify({ companies, extraction_schema: JSON.parse(readFileSync('examples/schema.json', 'utf8')), max_iterations: 1 });
    const { job_id: jobId } = (await (await fetch(`${services.restUrl}/research/batch`, { method: 'POST', headers, body })).json()) as { job_id: string };
    expect((await fetch(`${services.restUrl}/jobs/${jobId}/cancel`, { method: 'POST', headers })).status).toBe(202);
    await services.runtime.waitForJob(jobId);

    const redriven = await dossier(['redrive', jobId, '--watch']);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stdout.split('\n')[0]).toMatch(new RegExp(`^${jobId}: \\d+ compan(y runs|ies run) again$`));
    expect(redriven.stdout.trim().split('\n').at(-1)).toMatch(/60\/60 .*\(completed\)/);

    const again = await dossier(['redrive', jobId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/HTTP 409: every company of job .* completed/);
    const late = await dossier(['cancel', jobId]);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/HTTP 409: job .* already ended COMPLETED/);
  });

  it('says what is missing before sending anything, and exits 2 on a refusal', async () => {
    const noCredentials = await dossier(['watch', '0b6c2c1e-0000-4000-8000-000000000000'], { DOSSIER_API_URL: services.restUrl });
    expect(noCredentials.code).toBe(2);
    expect(noCredentials.stderr).toMatch(/no credentials: set DOSSIER_TOKEN, or DOSSIER_CLIENT_ID/);

    const unknown = await dossier(['watch', '0b6c2c1e-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/HTTP 404: no job 0b6c2c1e/);

    const expired = await dossier(['watch', '0b6c2c1e-0000-4000-8000-000000000000'], {
      DOSSIER_API_URL: services.restUrl,
      DOSSIER_TOKEN: await services.issuer.mintToken({ expiresInSeconds: -120 }),
    });
    expect(expired.code).toBe(2);
    expect(expired.stderr).toMatch(/HTTP 401/);

    const badSchema = path.join(scratch, 'bad-schema.json');
    writeFileSync(badSchema, JSON.stringify({ type: 'object', properties: { ceo: { type: 'string' } }, required: ['founded'] }));
    const refused = await dossier(['submit', 'examples/companies.txt', '--schema', badSchema]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/HTTP 400: .*"founded", which is not in extraction_schema.properties/);
  });
});
