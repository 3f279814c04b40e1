/**
 * What the A2A door costs on top of the work: `npm run bench:a2a [-- --calls 20 --llm-latency-ms 0]`.
 * The same companies are researched three times on the local runtime, one after another: once through the
 * coordinator agent over HTTP (token check, task store writes, JSON-RPC, the EXPRESS machine), once through the REST
 * API's POST /research/single (authorizer, handler, the EXPRESS machine), and once by calling the per-company run
 * directly in-process (the EXPRESS machine alone). The differences are the doors' overheads. A small skill
 * (reflect_quality, no provider calls) shows the fixed cost of one A2A call.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startLocalServices } from '../local/local-services';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '20' },
    'search-latency-ms': { type: 'string', default: '0' },
    'llm-latency-ms': { type: 'string', default: '0' },
  },
});
const calls = Number(values.calls);
const names = readFileSync('examples/companies.txt', 'utf8').trim().split('\n');
const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));

const services = await startLocalServices({
  corpusDir: 'examples/corpus',
  providers: 'stand-ins',
  logLevel: 'ERROR',
  // Each company runs twice; a cache would answer the second run's searches and flatter the A2A door.
  searchCache: false,
  standInLatencyMs: { tavily: Number(values['search-latency-ms']), anthropic: Number(values['llm-latency-ms']) },
});
// Imported once the runtime has set the environment the handlers read.
const { researchOneCompany } = await import('../lambdas/shared/research-jobs');
const token = await services.issuer.mintToken();
const agentUrl = async (skill: string) => {
  for (const agent of services.agents) {
    const card = (await (await fetch(agent.cardUrl, { headers: { 'A2A-Version': '1.0' } })).json()) as { skills: { id: string }[] };
    if (card.skills.some((s) => s.id === skill)) return agent.url;
  }
  throw new Error(`no agent has ${skill}`);
};
const coordinator = await agentUrl('research_companies');
const reflection = await agentUrl('reflect_quality');

async function a2aCall(url: string, data: unknown): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: randomUUID(), role: 'ROLE_USER', parts: [{ data }] } } }),
  });
  const body = (await response.json()) as any;
  const elapsed = performance.now() - started;
  if (body.result?.task?.status?.state !== 'TASK_STATE_COMPLETED') throw new Error(`A2A call did not complete: ${JSON.stringify(body).slice(0, 300)}`);
  return elapsed;
}

async function restCall(data: unknown): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${services.restUrl}/research/single`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(data),
  });
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`POST /research/single answered ${response.status}: ${body.slice(0, 300)}`);
  return elapsed;
}

const direct: number[] = [];
const viaA2a: number[] = [];
const viaRest: number[] = [];
const small: number[] = [];
for (let i = 0; i < calls; i++) {
  const request = { company_name: names[i % names.length]!, extraction_schema: schema, tier: 'standard' as const, max_iterations: 2, max_queries: 3, search_provider: 'tavily' as const };
  const started = performance.now();
  await researchOneCompany(request, randomUUID());
  direct.push(performance.now() - started);
  viaA2a.push(await a2aCall(coordinator, request));
  viaRest.push(await restCall(request));
  small.push(await a2aCall(reflection, { company_name: request.company_name, extraction_schema: schema, extracted_data: {} }));
}
await services.stop();

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const line = (label: string, xs: number[]) => `  ${label.padEnd(44)} p50 ${quantile(xs, 0.5).toFixed(0).padStart(6)} ms   p95 ${quantile(xs, 0.95).toFixed(0).padStart(6)} ms`;
const overhead = viaA2a.map((t, i) => t - direct[i]!);
console.log(`A2A overhead, ${calls} companies one after another, stand-in latency: search ${values['search-latency-ms']} ms, LLM ${values['llm-latency-ms']} ms`);
console.log(line('research_company, in-process (EXPRESS run)', direct));
console.log(line('research_company through the coordinator', viaA2a));
console.log(line('overhead of the A2A door (difference)', overhead));
console.log(line('POST /research/single', viaRest));
console.log(line('overhead of the REST door (difference)', viaRest.map((t, i) => t - direct[i]!)));
console.log(line('reflect_quality through A2A (no providers)', small));
