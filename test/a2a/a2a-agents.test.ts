/**
 * The four agents over real HTTP on localhost, as `npm run serve` starts them: each function URL runs its
 * function's own handler file, tasks live in the embedded DynamoDB, tokens come from the local issuer.
 * Two kinds of client: @a2a-js/sdk's own (v1.0 and v0.3), and raw JSON-RPC on the wire, which shares no
 * serializer with the server. Grouped by the requirement ids of the A2A TCK (CARD-*, CORE-*, JSONRPC-*, AUTH-*).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { Role, TaskState, type Message, type Task } from '@a2a-js/sdk';
import { Client, ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport, parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyResultSchema, extractionOutputSchema, jobViewSchema, reflectionOutputSchema, researchOutputSchema, type ExtractionSchema } from '../../lambdas/core/contracts';
import { documentClient } from '../../lambdas/shared/aws-clients';
import { startFunctionUrlServer } from '../../local/function-url-server';
import { startLocalServices, type LocalServices } from '../../local/local-services';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
let services: LocalServices;
let token: string;
const url: Record<'research' | 'extraction' | 'reflection' | 'coordinator', string> = {} as any;

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
  token = await services.issuer.mintToken();
  for (const agent of services.agents) {
    const card: any = await (await fetch(agent.cardUrl, { headers: { 'A2A-Version': '1.0' } })).json();
    const id = card.skills.some((s: any) => s.id === 'research_companies') ? 'coordinator' : { research_company: 'research', extract_data: 'extraction', reflect_quality: 'reflection' }[card.skills[0].id as string];
    url[id as keyof typeof url] = agent.url;
  }
}, 120_000);

afterAll(async () => {
  await services?.stop();
});

// ── Raw JSON-RPC: no SDK serializer involved ──────────────────────────────────────────────
async function rpc(target: string, method: string, params: unknown, options: { version?: string | null; bearer?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.version !== null) headers['A2A-Version'] = options.version ?? '1.0';
  if (options.bearer !== null) headers.authorization = `Bearer ${options.bearer ?? token}`;
  const response = await fetch(`${target}/`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const dataMessage = (data: unknown, metadata?: Record<string, unknown>) => ({
  message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ data }], ...(metadata ? { metadata } : {}) },
});

const researchInput = { company_name: 'Brightgull Robotics', extraction_schema: schema };

// ── SDK clients ───────────────────────────────────────────────────────────────────────────
const authorizedFetch = (bearer: string): typeof fetch => (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${bearer}`);
  return fetch(input, { ...init, headers });
};

async function v1Client(target: string, bearer = token): Promise<Client> {
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl: authorizedFetch(bearer) })] }),
  );
  return factory.createFromUrl(target);
}

async function v03Client(target: string): Promise<Client> {
  const raw: any = await (await fetch(`${target}/.well-known/agent.json`)).json();
  const card = parseLegacyAgentCard(raw);
  return new Client(new LegacyJsonRpcTransport({ endpoint: raw.url, fetchImpl: authorizedFetch(token) }), card);
}

function userMessage(data: unknown, asText = false): Message {
  return {
    messageId: crypto.randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [
      asText
        ? { content: { $case: 'text', value: JSON.stringify(data) }, metadata: undefined, filename: '', mediaType: 'text/plain' }
        : { content: { $case: 'data', value: data }, metadata: undefined, filename: '', mediaType: 'application/json' },
    ],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

const send = (client: Client, message: Message) => client.sendMessage({ message, configuration: undefined, metadata: undefined, tenant: '' } as any) as Promise<Task>;

function artifactData(task: Task): unknown {
  const part = task.artifacts[0]?.parts[0]?.content;
  expect(part?.$case).toBe('data');
  return (part as { value: unknown }).value;
}

describe('CARD: discovery', () => {
  it('CARD-001: every agent serves its card at /.well-known/agent-card.json and the older agent.json, without a token', async () => {
    expect(services.agents).toHaveLength(4);
    for (const agent of services.agents) {
      for (const path of ['/.well-known/agent-card.json', '/.well-known/agent.json']) {
        const response = await fetch(`${agent.url}${path}`, { headers: { 'A2A-Version': '1.0' } });
        expect(response.status, path).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/application\/json/);
        const card: any = await response.json();
        expect(card.name).toMatch(/^Dossier/);
        expect(card.supportedInterfaces).toContainEqual({ url: agent.url, protocolBinding: 'JSONRPC', protocolVersion: '1.0' });
      }
    }
  });

  it('CARD-002: the v1.0 card declares skills, OAuth2 client credentials with the token URL, and streaming only for the coordinator', async () => {
    const cards = Object.fromEntries(
      await Promise.all(Object.entries(url).map(async ([id, u]) => [id, await (await fetch(`${u}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json()])),
    );
    expect(cards.research.skills.map((s: any) => s.id)).toEqual(['research_company']);
    expect(cards.extraction.skills.map((s: any) => s.id)).toEqual(['extract_data']);
    expect(cards.reflection.skills.map((s: any) => s.id)).toEqual(['reflect_quality']);
    expect(cards.coordinator.skills.map((s: any) => s.id)).toEqual(['research_company', 'research_companies']);
    for (const [id, card] of Object.entries<any>(cards)) {
      expect(card.capabilities.streaming ?? false, id).toBe(id === 'coordinator');
      expect(card.securitySchemes.dossier_oauth.oauth2SecurityScheme.flows.clientCredentials.tokenUrl).toBe(services.issuer.tokenUrl);
      expect(card.securityRequirements).toEqual([{ schemes: { dossier_oauth: { list: ['dossier/research'] } } }]);
      // Internal SDK shapes must never reach the wire.
      expect(JSON.stringify(card)).not.toContain('$case');
    }
  });

  it("CARD-003: each skill publishes input and output JSON Schemas generated from the tasks' zod contracts", async () => {
    const card: any = await (await fetch(`${url.research}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    const extension = card.capabilities.extensions.find((e: any) => e.uri === 'urn:dossier:a2a:skill-schemas:v1');
    const { input_schema, output_schema } = extension.params.research_company;
    expect(input_schema.required).toEqual(expect.arrayContaining(['company_name', 'extraction_schema']));
    expect(input_schema.required).not.toContain('max_queries'); // it has a default
    expect(input_schema.properties.max_queries).toMatchObject({ minimum: 1, maximum: 10 });
    expect(Object.keys(output_schema.properties)).toEqual(expect.arrayContaining(['research_queries', 'research_notes', 'metadata', 'sources']));
  });

  it('CARD-004: a request without A2A-Version gets the v0.3 card shape, with the v1.0 interfaces embedded', async () => {
    const card: any = await (await fetch(`${url.coordinator}/.well-known/agent.json`)).json();
    expect(card).toMatchObject({ protocolVersion: '0.3.0', url: url.coordinator, preferredTransport: 'JSONRPC' });
    expect(card.securitySchemes.dossier_oauth.type).toBe('oauth2');
    expect(card.security).toEqual([{ dossier_oauth: ['dossier/research'] }]);
    expect(card.supportedInterfaces).toHaveLength(2);
  });
});

describe('AUTH: every JSON-RPC call needs a valid bearer token', () => {
  it('AUTH-001: no token → 401 with a bare Bearer challenge', async () => {
    const answer = await rpc(url.research, 'GetTask', { id: 'x' }, { bearer: null });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="dossier"');
  });

  it('AUTH-002: an expired token, a token for another audience and a forged one → 401 invalid_token', async () => {
    const other = await startLocalServicesIssuerToken();
    const cases = {
      expired: await services.issuer.mintToken({ expiresInSeconds: -600 }),
      'wrong audience': await services.issuer.mintToken({ audience: 'someone-else' }),
      forged: other,
    };
    for (const [what, bad] of Object.entries(cases)) {
      const answer = await rpc(url.coordinator, 'ListTasks', {}, { bearer: bad });
      expect(answer.status, what).toBe(401);
      expect(answer.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="dossier", error="invalid_token", error_description="[^"]+"$/);
      expect(JSON.stringify(answer.body)).not.toContain(bad);
    }
  });

  it('AUTH-003: a valid token without the research scope → 403 insufficient_scope', async () => {
    const readOnly = await services.issuer.mintToken({ scopes: ['dossier/read'] });
    const answer = await rpc(url.extraction, 'ListTasks', {}, { bearer: readOnly });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(answer.headers.get('www-authenticate')).toContain('scope="dossier/research"');
  });

  it('AUTH-004: a token from the client-credentials grant works', async () => {
    const response = await fetch(services.issuer.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${services.issuer.clientId}:${services.issuer.clientSecret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await response.json()) as { access_token: string };
    const answer = await rpc(url.reflection, 'ListTasks', {}, { bearer: access_token });
    expect(answer.status).toBe(200);
    expect(answer.body.result.tasks).toBeInstanceOf(Array);
  });
});

/** A token signed by a different issuer's key but claiming ours: it must not verify. */
async function startLocalServicesIssuerToken(): Promise<string> {
  const { startLocalIssuer } = await import('../../local/identity-issuer');
  const stranger = await startLocalIssuer({ audience: services.issuer.audience, scopes: ['dossier/research'] });
  try {
    return await stranger.mintToken({ claims: { iss: services.issuer.issuer } });
  } finally {
    await stranger.close();
  }
}

describe('JSONRPC: the wire', () => {
  it('JSONRPC-001: a body that is not JSON → -32700', async () => {
    const response = await fetch(`${url.research}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${token}` },
      body: '{"jsonrpc": "2.0", "method": ',
    });
    expect(((await response.json()) as any).error.code).toBe(-32700);
  });

  it('JSONRPC-002: a request that is not a JSON-RPC request object → -32600', async () => {
    const response = await fetch(`${url.research}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${token}` },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' } }]),
    });
    expect(((await response.json()) as any).error.code).toBe(-32600);
    const noVersion = await fetch(`${url.research}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: 1, method: 'GetTask', params: { id: 'x' } }),
    });
    expect(((await noVersion.json()) as any).error.code).toBe(-32600);
  });

  it('JSONRPC-003: an unknown method → -32601; bad params → -32602', async () => {
    expect((await rpc(url.research, 'tasks/explode', {})).body.error.code).toBe(-32601);
    expect((await rpc(url.research, 'SendMessage', { message: 'not a message' })).body.error.code).toBe(-32602);
  });

  it('CORE-GET-002: an unknown task → -32001', async () => {
    const answer = await rpc(url.reflection, 'GetTask', { id: crypto.randomUUID() });
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32001 } });
  });

  it('VER-001: an unsupported A2A-Version → -32009', async () => {
    expect((await rpc(url.extraction, 'ListTasks', {}, { version: '9.0' })).body.error.code).toBe(-32009);
  });

  it('JSONRPC-004: streaming from an agent that does not stream → -32004', async () => {
    const answer = await rpc(url.reflection, 'SendStreamingMessage', dataMessage({}));
    expect(answer.body.error.code).toBe(-32004);
  });
});

describe('CORE-SEND: each skill, v1.0 client', () => {
  it('research_company (data part) completes with the research output', async () => {
    const task = await send(await v1Client(url.research), userMessage(researchInput));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const output = researchOutputSchema.parse(artifactData(task));
    expect(output.research_notes).toContain('Brightgull');
    expect(output.sources.length).toBeGreaterThan(0);
  });

  it('extract_data (a text part holding JSON, as older clients send it) completes with the extraction output, each value quoted from its page', async () => {
    const about = 'https://brightgull-robotics.example/about';
    const notes = `- Founded: 2014 [1]\n- Headquarters: Aarhus, Denmark [1]\n\nSources:\n[1] ${about}`;
    const page = 'Brightgull Robotics builds robot arms.\n\n- Founded: 2014\n- Headquarters: Aarhus, Denmark';
    const withPage = { company_name: 'Brightgull Robotics', research_notes: notes, extraction_schema: schema, sources: [{ id: 1, url: about, title: 'About', content: page }] };
    const task = await send(await v1Client(url.extraction), userMessage(withPage, true));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const output = extractionOutputSchema.parse(artifactData(task));
    expect(output.extracted_data.founded_year).toBe(2014);
    expect(output.evidence.founded_year).toEqual([{ url: about, title: 'About', excerpt: 'Founded: 2014' }]);

    // Notes alone hold no page to check a passage against: nothing is presented as sourced.
    const notesOnly = await send(await v1Client(url.extraction), userMessage({ ...withPage, sources: [{ id: 1, url: about, title: 'About' }] }));
    const unchecked = extractionOutputSchema.parse(artifactData(notesOnly));
    expect(unchecked.extracted_data).toEqual({});
    expect(unchecked.unverified_fields).toEqual(expect.arrayContaining(['founded_year', 'headquarters']));
  });

  it('reflect_quality completes with the missing fields and follow-up queries', async () => {
    const task = await send(await v1Client(url.reflection), userMessage({ company_name: 'Brightgull Robotics', extraction_schema: schema, extracted_data: { founded_year: 2014 } }));
    const output = reflectionOutputSchema.parse(artifactData(task));
    expect(output.is_complete).toBe(false);
    expect(output.missing_fields).toContain('ceo');
    expect(output.follow_up_queries.length).toBeGreaterThan(0);
  });

  it("the coordinator's research_company runs the whole loop on the per-company machine and answers with the company's result", async () => {
    const task = await send(await v1Client(url.coordinator), userMessage({ ...researchInput, max_iterations: 2 }));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const result = companyResultSchema.parse(artifactData(task));
    expect(result).toMatchObject({ company_name: 'Brightgull Robotics', status: 'completed', complete: true });
    // A job of one company: the same record GET /jobs/{id} reads, with the results files.
    const job: any = await (await fetch(`${services.restUrl}/jobs/${task.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect(job).toMatchObject({ job_id: task.id, status: 'COMPLETED', progress: { total: 1, completed: 1, failed: 0 } });
  });

  it('CORE-SEND-003: input that breaks the contract ends in a rejected task whose message names the problem', async () => {
    const answer = await rpc(url.research, 'SendMessage', dataMessage({ extraction_schema: schema, max_queries: 50 }));
    expect(answer.body.result.task.status.state).toBe('TASK_STATE_REJECTED');
    const text = answer.body.result.task.status.message.parts[0].text;
    expect(text).toContain('company_name');
    expect(text).toContain('max_queries');
  });

  it('CORE-SEND-004: a schema the agents cannot compile is rejected before any work starts', async () => {
    const answer = await rpc(url.research, 'SendMessage', dataMessage({ company_name: 'Acme', extraction_schema: { type: 'object', properties: { x: { type: 'strnig' } } } }));
    expect(answer.body.result.task.status.state).toBe('TASK_STATE_REJECTED');
    expect(answer.body.result.task.status.message.parts[0].text).toMatch(/not a valid JSON Schema/);
  });

  it('CORE-SEND-005: a message with neither a data part nor JSON text is rejected, saying what to send', async () => {
    const answer = await rpc(url.reflection, 'SendMessage', { message: { messageId: 'm-text', role: 'ROLE_USER', parts: [{ text: 'please research Acme' }] } });
    expect(answer.body.result.task.status.state).toBe('TASK_STATE_REJECTED');
    expect(answer.body.result.task.status.message.parts[0].text).toMatch(/data part/);
  });
});

describe('CORE-SEND: v0.3 clients, through the compatibility layer', () => {
  it('message/send to each agent returns a completed task with the output', async () => {
    const inputs: Record<keyof typeof url, unknown> = {
      research: researchInput,
      extraction: { company_name: 'Brightgull Robotics', research_notes: '[1] Brightgull Robotics\n- CEO: Mette Langgaard', extraction_schema: schema },
      reflection: { company_name: 'Brightgull Robotics', extraction_schema: schema, extracted_data: {} },
      coordinator: { ...researchInput, max_iterations: 1 },
    };
    for (const [id, input] of Object.entries(inputs)) {
      const client = await v03Client(url[id as keyof typeof url]);
      const task = await send(client, userMessage(input));
      expect(task.status?.state, id).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(artifactData(task), id).toBeTypeOf('object');
    }
  });

  it('research_companies from both clients: the task works while the job runs, and GetTask then finds it completed with the job', async () => {
    for (const client of [await v03Client(url.coordinator), await v1Client(url.coordinator)]) {
      const started = await send(client, userMessage({ companies: ['Brightgull Robotics', 'Mercury Freight'], extraction_schema: schema, max_iterations: 1 }));
      expect(started.status?.state).toBe(TaskState.TASK_STATE_WORKING);
      expect((await services.runtime.waitForJob(started.id)).status).toBe('SUCCEEDED');
      const task = await client.getTask({ id: started.id, historyLength: undefined, tenant: '' } as any);
      expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(jobViewSchema.parse(artifactData(task))).toMatchObject({ job_id: started.id, status: 'COMPLETED', progress: { total: 2, completed: 2 } });
    }
  });

  it('the raw v0.3 wire: message/send without A2A-Version answers kind "task" and lower-case states', async () => {
    const answer = await rpc(url.reflection, 'message/send', {
      message: { kind: 'message', messageId: 'legacy-1', role: 'user', parts: [{ kind: 'data', data: { company_name: 'Acme', extraction_schema: schema, extracted_data: {} } }] },
    }, { version: null });
    expect(answer.body.result).toMatchObject({ kind: 'task', status: { state: 'completed' } });
    expect(answer.body.result.artifacts[0].parts[0]).toMatchObject({ kind: 'data' });
  });
});

describe('CORE-GET, CORE-LIST, CORE-CANCEL: durable tasks', () => {
  it('CORE-GET-001: a task is found by another handler instance (tasks live in DynamoDB, not in a container)', async () => {
    const created = await send(await v1Client(url.reflection), userMessage({ company_name: 'Acme', extraction_schema: schema, extracted_data: {} }));
    const reflection = services.agents.find((a) => a.url === url.reflection)!;
    // A second "container": the handler module loaded afresh, with nothing in memory.
    const other = await startFunctionUrlServer({ name: `${reflection.function}-2`, entry: 'lambdas/handlers/reflection.ts', timeoutMs: 30_000, freshInstance: true });
    try {
      const answer = await rpc(other.url, 'GetTask', { id: created.id });
      expect(answer.body.result).toMatchObject({ id: created.id, status: { state: 'TASK_STATE_COMPLETED' } });
      expect(answer.body.result.artifacts[0].parts[0].data.is_complete).toBe(false);
    } finally {
      await other.close();
    }
  });

  it("CORE-LIST-001: ListTasks shows the caller's tasks of this agent, newest first, and nobody else's", async () => {
    const client = await v1Client(url.extraction);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      ids.push((await send(client, userMessage({ company_name: 'Acme', research_notes: `[1] note ${i}`, extraction_schema: schema }))).id);
    }
    const mine = await rpc(url.extraction, 'ListTasks', {});
    const listed = mine.body.result.tasks.map((t: any) => t.id);
    expect(listed.slice(0, 2)).toEqual([...ids].reverse());
    const stranger = await services.issuer.mintToken({ subject: 'another-client' });
    expect((await rpc(url.extraction, 'ListTasks', {}, { bearer: stranger })).body.result.tasks).toEqual([]);
    expect((await rpc(url.extraction, 'GetTask', { id: ids[0] }, { bearer: stranger })).body.error.code).toBe(-32001);
  });

  it('CORE-CANCEL-002: canceling a finished task → -32002', async () => {
    const done = await send(await v1Client(url.reflection), userMessage({ company_name: 'Acme', extraction_schema: schema, extracted_data: {} }));
    expect((await rpc(url.reflection, 'CancelTask', { id: done.id })).body.error.code).toBe(-32002);
  });
});

describe('streaming: the coordinator', () => {
  it('CORE-STREAM-001: research_company streams working, the artifact, then completed (SDK client)', async () => {
    const client = await v1Client(url.coordinator);
    const kinds: string[] = [];
    let last: any;
    for await (const event of client.sendMessageStream({ message: userMessage({ ...researchInput, max_iterations: 1 }), configuration: undefined, metadata: undefined, tenant: '' } as any)) {
      const payload = event.payload!;
      kinds.push(payload.$case === 'statusUpdate' ? `status:${TaskState[payload.value.status!.state]}` : payload.$case);
      last = payload;
    }
    expect(kinds[0]).toBe('task');
    expect(kinds).toContain('status:TASK_STATE_WORKING');
    expect(kinds.indexOf('artifactUpdate')).toBeGreaterThan(kinds.indexOf('status:TASK_STATE_WORKING'));
    expect(kinds.at(-1)).toBe('status:TASK_STATE_COMPLETED');
    expect(last.value.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('CORE-STREAM-002: the wire is text/event-stream with one JSON-RPC response per event', async () => {
    const response = await fetch(`${url.coordinator}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'stream-1', method: 'SendStreamingMessage', params: dataMessage({ ...researchInput, max_iterations: 1 }) }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter(Boolean).map((chunk) => JSON.parse(chunk.replace(/^data: /, '')));
    expect(events.every((e) => e.jsonrpc === '2.0' && e.id === 'stream-1')).toBe(true);
    expect(events.at(-1).result.statusUpdate.status.state).toBe('TASK_STATE_COMPLETED');
    expect(events.some((e) => e.result.artifactUpdate?.artifact.parts[0].data.company_name === 'Brightgull Robotics')).toBe(true);
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: any;
}

async function webhookReceiver(): Promise<{ url: string; received: Received[]; next(predicate: (r: Received) => boolean): Promise<Received>; close(): Promise<void> }> {
  const received: Received[] = [];
  const waiters: { predicate: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry = { headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    received.push(entry);
    for (const waiter of waiters.filter((w) => w.predicate(entry))) waiter.resolve(entry);
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    next: (predicate) => {
      const seen = received.find(predicate);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('research_companies: a batch job behind a task', () => {
  it('starts a real batch, follows its progress, completes with the results, and calls the webhook with its credentials', async () => {
    const hook = await webhookReceiver();
    try {
      const started = await rpc(url.coordinator, 'SendMessage', {
        ...dataMessage({ companies: ['Brightgull Robotics', 'Tallowmere Payments', 'Ptarmigan Ledgerworks'], extraction_schema: schema, max_iterations: 1 }),
        configuration: { taskPushNotificationConfig: { url: hook.url, authentication: { scheme: 'Bearer', credentials: 'hook-secret-1' } } },
      });
      const task = started.body.result.task;
      expect(task.status.state).toBe('TASK_STATE_WORKING');
      expect(task.metadata.skill_id).toBe('research_companies');

      const execution = await services.runtime.waitForJob(task.id);
      expect(execution.status).toBe('SUCCEEDED');
      const final = await hook.next((r) => r.body.statusUpdate?.status?.state === 'TASK_STATE_COMPLETED');
      expect(final.headers.authorization).toBe('Bearer hook-secret-1');
      expect(final.headers['content-type']).toMatch(/application\/(a2a\+)?json/);

      const got = await rpc(url.coordinator, 'GetTask', { id: task.id });
      expect(got.body.result.status.state).toBe('TASK_STATE_COMPLETED');
      const view = jobViewSchema.parse(got.body.result.artifacts[0].parts[0].data);
      expect(view).toMatchObject({ job_id: task.id, status: 'COMPLETED', progress: { total: 3, completed: 3, failed: 0 } });
      expect(view.results?.jsonl).toMatch(/results\.jsonl$/);
    } finally {
      await hook.close();
    }
  });

  it('CORE-SUB-001: SubscribeToTask on a batch task streams its progress until it completes with the results', async () => {
    // Enough companies that the job is still running when the subscription starts, a few milliseconds later.
    const companies = Array.from({ length: 100 }, (_, i) => `Subscriber ${i} Works`);
    const started = await rpc(url.coordinator, 'SendMessage', dataMessage({ companies, extraction_schema: schema, max_iterations: 1 }));
    const id = started.body.result.task.id;
    const response = await fetch(`${url.coordinator}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'sub-1', method: 'SubscribeToTask', params: { id } }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter(Boolean).map((chunk) => JSON.parse(chunk.replace(/^data: /, '')).result);
    expect(events[0].task.id).toBe(id);
    const statuses = events.filter((e) => e.statusUpdate).map((e) => e.statusUpdate.status);
    expect(statuses.at(-1).state).toBe('TASK_STATE_COMPLETED');
    // Progress only moves forward.
    const done = statuses.map((s: any) => Number(/^(\d+) of 100/.exec(s.message.parts[0].text)?.[1]));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(100);
    const artifact = events.find((e) => e.artifactUpdate)?.artifactUpdate.artifact.parts[0].data;
    expect(artifact).toMatchObject({ job_id: id, status: 'COMPLETED', progress: { total: 100 } });
  });

  it('CORE-CANCEL-001: canceling a running batch task stops its execution and ends the job CANCELLED', async () => {
    const companies = Array.from({ length: 40 }, (_, i) => `Company ${i} Holdings`);
    const started = await rpc(url.coordinator, 'SendMessage', dataMessage({ companies, extraction_schema: schema, max_iterations: 1 }));
    const id = started.body.result.task.id;
    const canceled = await rpc(url.coordinator, 'CancelTask', { id });
    expect(canceled.body.result.status.state).toBe('TASK_STATE_CANCELED');
    const execution = await services.runtime.waitForJob(id);
    expect(execution.status).toBe('ABORTED');
    const { Item } = await documentClient().send(new GetCommand({ TableName: process.env.JOBS_TABLE_NAME!, Key: { job_id: id } }));
    expect(Item).toMatchObject({ status: 'CANCELLED' });
    // Canceling again answers the canceled task; GetTask agrees.
    expect((await rpc(url.coordinator, 'GetTask', { id })).body.result.status.state).toBe('TASK_STATE_CANCELED');
  });
});
