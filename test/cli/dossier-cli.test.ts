/** The main job as a user runs it: `dossier run` on their own files, in a child process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readCompanies } from '../../local/companies-file';

const run = promisify(execFile);
const scratch: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dossier-cli-'));
  scratch.push(dir);
  return dir;
};
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function dossier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/dossier.ts', ...args], {
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', TAVILY_API_KEY: '', ANTHROPIC_API_KEY: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('reading a companies file', () => {
  it('takes one name per line, skipping blanks and comments', () => {
    expect(readCompanies('Acme\n\n# later\r\nGlobex Corp\n', 'list.txt')).toEqual(['Acme', 'Globex Corp']);
  });

  it('takes the company column of a CSV, quoted cells included', () => {
    const csv = 'country,company_name\nDK,Brightgull Robotics\nNL,"Mercury Freight, B.V."\n';
    expect(readCompanies(csv, 'list.csv')).toEqual(['Brightgull Robotics', 'Mercury Freight, B.V.']);
    expect(readCompanies('name,x\n"a ""quoted"" name",b\n', 'list.csv')).toEqual(['a "quoted" name']);
  });

  it('keeps a line break inside a quoted cell in one company (3 companies stay 3)', () => {
    const csv = 'company_name,notes\nAcme,"first line\nsecond line"\n"Globex\nCorp",x\nInitech,"a, b"\n';
    expect(readCompanies(csv, 'list.csv')).toEqual(['Acme', 'Globex\nCorp', 'Initech']);
  });

  it('takes a domain column that pins which company a name means, and leaves names without one plain', () => {
    const csv = 'company_name,domain\nMercury,mercury-freight.example\nBrightgull Robotics,\n';
    expect(readCompanies(csv, 'list.csv')).toEqual([{ company_name: 'Mercury', domain: 'mercury-freight.example' }, 'Brightgull Robotics']);
  });

  it('takes a JSON list of names and {company_name, domain} objects', () => {
    const json = JSON.stringify(['Brightgull Robotics', { company_name: 'Mercury', domain: 'mercury-freight.example' }, { company_name: 'Acme' }]);
    expect(readCompanies(json, 'list.json')).toEqual(['Brightgull Robotics', { company_name: 'Mercury', domain: 'mercury-freight.example' }, 'Acme']);
    expect(() => readCompanies('{"a":1}', 'list.json')).toThrow(/list\.json: must hold a JSON list/);
    expect(() => readCompanies('[{"name":"Acme"}]', 'list.json')).toThrow(/item 0 is neither a name nor an object with a company_name/);
  });

  it('says where a CSV is broken', () => {
    expect(() => readCompanies('company\n"Acme\n', 'broken.csv')).toThrow(/broken\.csv: not a readable CSV file/);
  });

  it('says which column it wanted when a CSV has none', () => {
    expect(() => readCompanies('country,size\nDK,3\n', 'list.csv')).toThrow(/company_name, company, name/);
  });
});

describe('dossier run', () => {
  it('researches the companies of a CSV and writes results.jsonl and results.csv', async () => {
    const dir = tempDir();
    const companies = path.join(dir, 'companies.csv');
    writeFileSync(companies, 'company,segment\nBrightgull Robotics,robots\n"Mercury Freight",logistics\nWrenfield Sprocket Labs,unknown\n');
    const out = path.join(dir, 'out');
    const result = await dossier(['run', companies, '--schema', 'examples/schema.json', '--tier', 'economy', '--max-cost-usd', '5', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Companies: 3 {3}completed: 2 {3}not found: 1 {3}failed: 0/);
    // Without keys or --corpus, the user is told their list is searched against the invented example companies.
    expect(result.stdout).toMatch(/Note: searching the example corpus of invented companies/);
    // Economy given no domains is told how it would read the companies' sites instead of searching.
    expect(result.stdout).toMatch(/Note: economy searches once for each company here\. Give each company its domain/);
    expect(result.stdout).toMatch(/Values with verified evidence: 18 of 18\n/);
    expect(result.stdout).toMatch(/Not found:\n {2}Wrenfield Sprocket Labs: not found: no page about Wrenfield Sprocket Labs/);
    // One basic search each, $0.005.
    expect(result.stdout).toMatch(/Estimated cost at list prices: \$0\.\d{4} \(\$0\.\d{4} per company\): search \$0\.0150, LLM \$0\.\d{4}, Lambda/);

    const [jobId] = readdirSync(out);
    const lines = readFileSync(path.join(out, jobId!, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.company_name)).toEqual(['Brightgull Robotics', 'Mercury Freight', 'Wrenfield Sprocket Labs']);
    expect(lines[0].data.ceo).toBe('Mette Langgaard');
    // The economy tier: one round, the small model only.
    expect(lines.every((l) => l.iterations === 1)).toBe(true);
    expect(Object.keys(lines[0].cost.llm)).toEqual(['claude-haiku-4-5']);
    const csv = readFileSync(path.join(out, jobId!, 'results.csv'), 'utf8').trim().split('\r\n');
    expect(csv).toHaveLength(4);
  });

  it('refuses a missing schema and an unusable one with a clear message', async () => {
    const missing = await dossier(['run', 'examples/companies.txt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--schema is required/);

    const dir = tempDir();
    const schema = path.join(dir, 'schema.json');
    writeFileSync(schema, JSON.stringify({ type: 'object', properties: {} }));
    const refused = await dossier(['run', 'examples/companies.txt', '--schema', schema, '--out', path.join(dir, 'out')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused \(400\).*at least one field/);
  });

  it('refuses an unknown tier and a spending cap that is not a positive amount, before starting anything', async () => {
    const tier = await dossier(['run', 'examples/companies.txt', '--schema', 'examples/schema.json', '--tier', 'premium']);
    expect(tier.code).toBe(2);
    expect(tier.stderr).toMatch(/--tier must be one of economy, standard, deep, got "premium"/);
    const cap = await dossier(['run', 'examples/companies.txt', '--schema', 'examples/schema.json', '--max-cost-usd', '0']);
    expect(cap.code).toBe(2);
    expect(cap.stderr).toMatch(/--max-cost-usd must be a positive number of dollars, got "0"/);
  });

  it('refuses a company whose domain is no host name, saying which, before starting anything', async () => {
    const companies = path.join(tempDir(), 'companies.csv');
    writeFileSync(companies, 'company_name,domain\nMercury Freight,mercury-freight.example\nKestrel Looms,10.0.0.1\n');
    const result = await dossier(['run', companies, '--schema', 'examples/schema.json', '--tier', 'economy']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/company 2: domain: domain must be a host name like "example\.com", not an IP address \("10\.0\.0\.1"\)/);
    // Refused before the local runtime started: nothing about providers was printed.
    expect(result.stdout).not.toMatch(/Dossier: /);
  });
});
