/**
 * The DynamoDB A2A stores against dynalite, on a table created from the synthesized Storage construct (GSI included),
 * through the real DynamoDBDocumentClient. The list and push-config expectations run against the SDK's in-memory
 * stores too: whatever a client can see must be the same with either store.
 */
import {
  AgentCard,
  ListTasksRequest,
  Role,
  TaskPushNotificationConfig,
  TaskState,
  type Message,
  type Part,
  type Task,
} from '@a2a-js/sdk';
import { RequestMalformedError, TaskNotFoundError } from '@a2a-js/sdk/errors';
import {
  DefaultRequestHandler,
  InMemoryPushNotificationStore,
  InMemoryTaskStore,
  ServerCallContext,
  type PushNotificationStore,
  type TaskStore,
  type User,
} from '@a2a-js/sdk/server';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '../../lib/storage';
import {
  DEFAULT_TASK_TTL_SECONDS,
  DynamoPushNotificationStore,
  DynamoTaskStore,
  TASKS_BY_OWNER_INDEX,
  type A2AStoreOptions,
} from '../../lambdas/store/a2a-task-store';
import { startEmbeddedAws, type EmbeddedAws } from '../../local/embedded-aws';
import { localName, type CfnTemplate } from '../../local/template';

let aws: EmbeddedAws;
let client: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  const app = new App();
  const stack = new Stack(app, 'A2AStoreTest');
  const storage = new Storage(stack, 'Storage');
  aws = await startEmbeddedAws(Template.fromStack(stack).toJSON() as CfnTemplate);
  tableName = localName(stack.getLogicalId(storage.tasksTable.node.defaultChild as CfnTable));
  expect(aws.tables).toContain(tableName);
  client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: aws.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
});

afterAll(async () => {
  client?.destroy();
  await aws?.stop();
});

/** Every test gets its own agent name: the table is shared and the agent is part of every scope. */
let agents = 0;
const freshAgent = () => `agent-${++agents}`;
const dynamoTasks = (options: Partial<A2AStoreOptions> = {}) => new DynamoTaskStore(client, tableName, { agent: freshAgent(), ...options });
const dynamoPush = (options: Partial<A2AStoreOptions> = {}) =>
  new DynamoPushNotificationStore(client, tableName, { agent: freshAgent(), ...options });

function context(userName: string, options: { tenant?: string; version?: string } = {}): ServerCallContext {
  const user: User = { isAuthenticated: true, userName };
  return new ServerCallContext({ user, tenant: options.tenant, requestedVersion: options.version });
}
const alice = context('alice');
const bob = context('bob');

const textPart = (text: string, mediaType = ''): Part => ({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType });

function message(messageId: string, taskId: string, role: Role, text: string): Message {
  return { messageId, contextId: 'ctx-1', taskId, role, parts: [textPart(text)], metadata: undefined, extensions: [], referenceTaskIds: [] };
}

function task(id: string, options: { contextId?: string; state?: TaskState; timestamp?: string | null } = {}): Task {
  return {
    id,
    contextId: options.contextId ?? 'ctx-1',
    status: {
      state: options.state ?? TaskState.TASK_STATE_WORKING,
      message: message(`${id}-status`, id, Role.ROLE_AGENT, 'Searching the web'),
      timestamp: options.timestamp === null ? undefined : (options.timestamp ?? '2026-03-01T10:00:00.000Z'),
    },
    artifacts: [
      {
        artifactId: `${id}-notes`,
        name: 'research-notes',
        description: 'Notes with their sources',
        parts: [
          {
            content: { $case: 'data', value: { company: 'Brightgull Robotics', founded_year: 2014, sources: ['https://brightgull.example/about'], ceo: null } },
            metadata: { schema: 'notes/v1' },
            filename: '',
            mediaType: 'application/json',
          },
          textPart('Founded in 2014 in Aarhus.', 'text/markdown'),
        ],
        metadata: { iteration: 1 },
        extensions: [],
      },
    ],
    history: [message(`${id}-m1`, id, Role.ROLE_USER, 'Research Brightgull Robotics'), message(`${id}-m2`, id, Role.ROLE_AGENT, 'On it')],
    metadata: { job_id: 'job-1', index: 3 },
  };
}

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
/** A request as the transport decodes it (every field at its default), with these fields set. */
const listRequest = (params: Partial<ListTasksRequest> = {}): ListTasksRequest => ({ ...ListTasksRequest.fromJSON({}), ...params });
const ids = (tasks: Task[]) => tasks.map((t) => t.id);

async function saveAll(store: TaskStore, tasks: Task[], ctx = alice) {
  for (const t of tasks) await store.save(t, ctx);
}

/** Five tasks in two contexts and three states, saved out of order; newest first they are t5, t4, t3, t2, t1. */
const fiveTasks = () => [
  task('t3', { timestamp: at(3), contextId: 'ctx-b', state: TaskState.TASK_STATE_COMPLETED }),
  task('t1', { timestamp: at(1), contextId: 'ctx-a', state: TaskState.TASK_STATE_COMPLETED }),
  task('t5', { timestamp: at(5), contextId: 'ctx-a', state: TaskState.TASK_STATE_WORKING }),
  task('t2', { timestamp: at(2), contextId: 'ctx-b', state: TaskState.TASK_STATE_FAILED }),
  task('t4', { timestamp: at(4), contextId: 'ctx-a', state: TaskState.TASK_STATE_COMPLETED }),
];

const taskStores: [string, () => TaskStore][] = [
  ['InMemoryTaskStore', () => new InMemoryTaskStore()],
  ['DynamoTaskStore', () => dynamoTasks()],
];

describe.each(taskStores)('task store semantics: %s', (_name, makeStore) => {
  it('lists nothing for an owner without tasks, with the default page size of 50', async () => {
    expect(await makeStore().list(listRequest(), alice)).toEqual({ tasks: [], nextPageToken: '', pageSize: 50, totalSize: 0 });
  });

  it('lists newest status first, with artifacts only when asked for and history whole', async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    const page = await store.list(listRequest(), alice);
    expect(ids(page.tasks)).toEqual(['t5', 't4', 't3', 't2', 't1']);
    expect(page).toMatchObject({ nextPageToken: '', pageSize: 50, totalSize: 5 });
    expect(page.tasks.every((t) => t.artifacts.length === 0 && t.history.length === 2)).toBe(true);

    const withArtifacts = await store.list(listRequest({ includeArtifacts: true }), alice);
    expect(withArtifacts.tasks[0]).toEqual(task('t5', { timestamp: at(5), contextId: 'ctx-a' }));
  });

  it('pages two at a time across five tasks, none twice and none missing', async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    const pages: string[][] = [];
    let pageToken = '';
    do {
      const page = await store.list(listRequest({ pageSize: 2, pageToken }), alice);
      expect(page.pageSize).toBe(2);
      expect(page.totalSize).toBe(5);
      pages.push(ids(page.tasks));
      pageToken = page.nextPageToken;
    } while (pageToken && pages.length < 10);
    expect(pages).toEqual([['t5', 't4'], ['t3', 't2'], ['t1']]);
  });

  it('filters by context, by status and by status time, counting only matches', async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    const byContext = await store.list(listRequest({ contextId: 'ctx-a' }), alice);
    expect([ids(byContext.tasks), byContext.totalSize]).toEqual([['t5', 't4', 't1'], 3]);

    const completed = await store.list(listRequest({ status: TaskState.TASK_STATE_COMPLETED, pageSize: 2 }), alice);
    expect([ids(completed.tasks), completed.totalSize]).toEqual([['t4', 't3'], 3]);
    const rest = await store.list(listRequest({ status: TaskState.TASK_STATE_COMPLETED, pageSize: 2, pageToken: completed.nextPageToken }), alice);
    expect([ids(rest.tasks), rest.nextPageToken]).toEqual([['t1'], '']);

    const both = await store.list(listRequest({ contextId: 'ctx-b', status: TaskState.TASK_STATE_FAILED }), alice);
    expect(ids(both.tasks)).toEqual(['t2']);
    expect(ids((await store.list(listRequest({ status: TaskState.TASK_STATE_UNSPECIFIED }), alice)).tasks)).toHaveLength(5);

    // Strictly later: the task at minute 3 itself is left out.
    const later = await store.list(listRequest({ statusTimestampAfter: at(3) }), alice);
    expect([ids(later.tasks), later.totalSize]).toEqual([['t5', 't4'], 2]);
  });

  it('breaks timestamp ties by task id, descending, and lists tasks without a timestamp last', async () => {
    const store = makeStore();
    await saveAll(store, [task('b', { timestamp: at(7) }), task('none', { timestamp: null }), task('c', { timestamp: at(7) }), task('a', { timestamp: at(9) })]);
    expect(ids((await store.list(listRequest(), alice)).tasks)).toEqual(['a', 'c', 'b', 'none']);
    const first = await store.list(listRequest({ pageSize: 3 }), alice);
    expect(ids((await store.list(listRequest({ pageSize: 3, pageToken: first.nextPageToken }), alice)).tasks)).toEqual(['none']);
  });

  it('overwrites a task saved again under the same id', async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    const finished = task('t1', { timestamp: at(8), contextId: 'ctx-a', state: TaskState.TASK_STATE_COMPLETED });
    finished.history.push(message('t1-m3', 't1', Role.ROLE_AGENT, 'Done'));
    await store.save(finished, alice);
    expect(await store.load('t1', alice)).toEqual(finished);
    const page = await store.list(listRequest(), alice);
    expect([ids(page.tasks), page.totalSize]).toEqual([['t1', 't5', 't4', 't3', 't2'], 5]);
  });

  it("keeps owners and tenants apart: another caller's task loads as undefined and is never listed", async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    expect(await store.load('t1', bob)).toBeUndefined();
    expect(await store.list(listRequest(), bob)).toMatchObject({ tasks: [], totalSize: 0 });
    const aliceElsewhere = context('alice', { tenant: 'other-tenant' });
    expect(await store.load('t1', aliceElsewhere)).toBeUndefined();
    expect((await store.list(listRequest(), aliceElsewhere)).totalSize).toBe(0);

    // The same id under another owner is another task.
    await store.save(task('t1', { contextId: 'bobs' }), bob);
    expect((await store.load('t1', bob))?.contextId).toBe('bobs');
    expect((await store.load('t1', alice))?.contextId).toBe('ctx-a');
  });

  it("rejects a page token that is not a cursor with the SDK's RequestMalformedError", async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    const noSeparator = Buffer.from('no-separator-here').toString('base64');
    await expect(store.list(listRequest({ pageToken: noSeparator }), alice)).rejects.toThrow(RequestMalformedError);
    await expect(store.list(listRequest({ pageToken: noSeparator }), alice)).rejects.toThrow('Invalid page token format.');
  });

  it('answers a client the same through the request handler: page size bounds, historyLength, TaskNotFound', async () => {
    const store = makeStore();
    await saveAll(store, fiveTasks());
    const handler = requestHandler(store);
    for (const pageSize of [0, 101, 2.5]) {
      await expect(handler.listTasks(listRequest({ pageSize }), alice)).rejects.toThrow(RequestMalformedError);
    }
    const page = await handler.listTasks(listRequest({ pageSize: 100, historyLength: 1 }), alice);
    expect(page.tasks.map((t) => t.history.map((m) => m.messageId))).toEqual([['t5-m2'], ['t4-m2'], ['t3-m2'], ['t2-m2'], ['t1-m2']]);
    expect((await handler.getTask({ tenant: '', id: 't3', historyLength: 0 }, alice)).history).toEqual([]);
    await expect(handler.getTask({ tenant: '', id: 't3' }, bob)).rejects.toThrow(TaskNotFoundError);
  });
});

function requestHandler(taskStore: TaskStore, pushStore?: PushNotificationStore): DefaultRequestHandler {
  const card = AgentCard.fromJSON({ name: 'test agent', version: '1.0.0', capabilities: { pushNotifications: true } });
  const executor = { execute: async () => {}, cancelTask: async () => {} };
  return new DefaultRequestHandler(card, taskStore, executor, undefined, pushStore);
}

const webhook = (id = ''): TaskPushNotificationConfig =>
  TaskPushNotificationConfig.fromJSON({
    id,
    taskId: 't1',
    url: 'https://hooks.example/a2a',
    token: 'session-token',
    authentication: { scheme: 'Bearer', credentials: 'webhook-secret' },
  });

/** A clock that moves one millisecond per reading, so "saved later" is always later, as it is in memory. */
function ticking(): () => number {
  let now = Date.now();
  return () => now++;
}

const pushStores: [string, () => PushNotificationStore][] = [
  ['InMemoryPushNotificationStore', () => new InMemoryPushNotificationStore()],
  ['DynamoPushNotificationStore', () => dynamoPush({ now: ticking() })],
];

describe.each(pushStores)('push config store semantics: %s', (_name, makeStore) => {
  it('assigns an id in place when the config has none, and loads the config back', async () => {
    const store = makeStore();
    const config = webhook();
    await store.save('t1', alice, config);
    expect(config.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await store.load('t1', alice)).toEqual([config]);
  });

  it('records the wire version of the registering call, 0.3 without an A2A-Version', async () => {
    const store = makeStore();
    await store.save('t1', context('alice', { version: '1.0' }), webhook('v1'));
    await store.save('t1', alice, webhook('legacy'));
    expect(await store.loadWithMetadata!('t1', alice)).toEqual([
      { config: webhook('v1'), wireVersion: '1.0' },
      { config: webhook('legacy'), wireVersion: '0.3' },
    ]);
  });

  it('replaces a config saved again with the same id, which then comes last', async () => {
    const store = makeStore();
    await store.save('t1', alice, webhook('a'));
    await store.save('t1', alice, webhook('b'));
    const changed = { ...webhook('a'), url: 'https://hooks.example/v2' };
    await store.save('t1', alice, changed);
    expect(await store.load('t1', alice)).toEqual([webhook('b'), changed]);
  });

  it('deletes one config by id, and without an id the one whose id is the task id', async () => {
    const store = makeStore();
    for (const id of ['a', 'b', 't1']) await store.save('t1', alice, webhook(id));
    await store.delete('t1', alice, 'a');
    expect((await store.load('t1', alice)).map((c) => c.id)).toEqual(['b', 't1']);
    await store.delete('t1', alice);
    expect((await store.load('t1', alice)).map((c) => c.id)).toEqual(['b']);
    await store.delete('t1', alice, 'b');
    expect(await store.load('t1', alice)).toEqual([]);
  });

  it("keeps callers apart: another owner neither sees nor deletes a task's configs", async () => {
    const store = makeStore();
    await store.save('t1', alice, webhook('a'));
    expect(await store.load('t1', bob)).toEqual([]);
    await store.delete('t1', bob, 'a');
    expect(await store.load('t1', alice)).toHaveLength(1);
    expect(await store.load('t1', context('alice', { tenant: 'other-tenant' }))).toEqual([]);
  });

  it('serves the request handler: Create returns the assigned id, Get and List find it', async () => {
    const taskStore = new InMemoryTaskStore();
    await taskStore.save(task('t1'), alice);
    const handler = requestHandler(taskStore, makeStore());
    const created = await handler.createTaskPushNotificationConfig(webhook(), alice);
    expect(created.id).not.toBe('');
    expect(await handler.getTaskPushNotificationConfig({ tenant: '', taskId: 't1', id: created.id }, alice)).toEqual(created);
    expect((await handler.listTaskPushNotificationConfigs({ tenant: '', taskId: 't1', pageSize: 0, pageToken: '' }, alice)).configs).toEqual([created]);
  });
});

describe('DynamoTaskStore', () => {
  it('round-trips a task with history, a status message and data and text artifacts, deep-equal, from another container', async () => {
    const agent = freshAgent();
    const saved = task('round-trip');
    await new DynamoTaskStore(client, tableName, { agent }).save(saved, alice);
    // A second instance shares nothing with the first but the table, as a cold container would.
    const loaded = await new DynamoTaskStore(client, tableName, { agent }).load('round-trip', alice);
    expect(loaded).toStrictEqual(saved);
    expect(loaded!.artifacts[0]!.parts[0]!.content).toEqual({ $case: 'data', value: saved.artifacts[0]!.parts[0]!.content!.value });
  });

  it('keeps agents apart: the research agent never sees the coordinator tasks', async () => {
    const coordinator = dynamoTasks({ agent: 'coordinator-isolation' });
    const research = dynamoTasks({ agent: 'research-isolation' });
    await coordinator.save(task('shared-id'), alice);
    expect(await research.load('shared-id', alice)).toBeUndefined();
    expect((await research.list(listRequest(), alice)).totalSize).toBe(0);
    expect(await research.loadAnyOwner('shared-id')).toBeUndefined();
    expect((await coordinator.list(listRequest(), alice)).totalSize).toBe(1);
  });

  it('writes the documented item, expiring 30 days after the last save', async () => {
    let now = Math.floor(Date.now() / 1000) * 1000;
    const store = dynamoTasks({ agent: 'layout-agent', now: () => now });
    await store.save(task('layout', { state: TaskState.TASK_STATE_INPUT_REQUIRED }), context('carol#1', { tenant: 'acme' }));
    const key = { pk: 'TASK#layout-agent#layout', sk: 'TASK#acme#carol%231' };
    const first = (await client.send(new GetCommand({ TableName: tableName, Key: key }))).Item!;
    expect(first).toMatchObject({
      owner_scope: 'layout-agent#acme#carol%231',
      list_key: `${at(0)}#layout`,
      context_id: 'ctx-1',
      state: 'TASK_STATE_INPUT_REQUIRED',
      updated_at: at(0),
      tenant: 'acme',
      owner: 'carol#1',
      expires_at: now / 1000 + DEFAULT_TASK_TTL_SECONDS,
    });

    now += 5 * 24 * 3600 * 1000;
    await store.save(task('layout'), context('carol#1', { tenant: 'acme' }));
    const second = (await client.send(new GetCommand({ TableName: tableName, Key: key }))).Item!;
    expect(second.expires_at - first.expires_at).toBe(5 * 24 * 3600);
  });

  it('sets expires_at 30 days ahead of the real clock by default', async () => {
    const store = dynamoTasks({ agent: 'real-clock-agent' });
    const before = Math.floor(Date.now() / 1000);
    await store.save(task('real-clock'), alice);
    const after = Math.ceil(Date.now() / 1000);
    const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { pk: 'TASK#real-clock-agent#real-clock', sk: 'TASK##alice' } }));
    expect(Item!.expires_at).toBeGreaterThanOrEqual(before + DEFAULT_TASK_TTL_SECONDS);
    expect(Item!.expires_at).toBeLessThanOrEqual(after + DEFAULT_TASK_TTL_SECONDS);
  });

  it('treats a task past its expiry as gone before DynamoDB deletes it', async () => {
    let now = Date.now();
    const store = dynamoTasks({ ttlSeconds: 60, now: () => now });
    await store.save(task('short-lived'), alice);
    expect(await store.load('short-lived', alice)).toBeDefined();
    now += 61_000;
    expect(await store.load('short-lived', alice)).toBeUndefined();
    expect((await store.list(listRequest(), alice)).totalSize).toBe(0);
    expect(await store.loadAnyOwner('short-lived')).toBeUndefined();
  });

  it('projects only the filter attributes into the by_owner index', async () => {
    const store = dynamoTasks({ agent: 'projection-agent' });
    await store.save(task('projected'), alice);
    const { Items } = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TASKS_BY_OWNER_INDEX,
        KeyConditionExpression: 'owner_scope = :scope',
        ExpressionAttributeValues: { ':scope': 'projection-agent##alice' },
      }),
    );
    expect(Object.keys(Items![0]!).sort()).toEqual(['context_id', 'expires_at', 'list_key', 'owner_scope', 'pk', 'sk', 'state', 'updated_at']);
  });

  it('rejects a page token that is not canonical base64 or names no readable time', async () => {
    const store = dynamoTasks();
    await saveAll(store, fiveTasks());
    for (const pageToken of ['not a token!', Buffer.from('yesterday|t3').toString('base64'), Buffer.from(`${at(3)}|`).toString('base64')]) {
      await expect(store.list(listRequest({ pageToken }), alice)).rejects.toThrow(RequestMalformedError);
    }
  });

  it('continues after the cursor even when that task was updated between pages (unlike InMemoryTaskStore)', async () => {
    const store = dynamoTasks();
    await saveAll(store, fiveTasks());
    const first = await store.list(listRequest({ pageSize: 2 }), alice);
    await store.save(task('t4', { timestamp: at(9), contextId: 'ctx-a' }), alice);
    const second = await store.list(listRequest({ pageSize: 2, pageToken: first.nextPageToken }), alice);
    expect(ids(second.tasks)).toEqual(['t3', 't2']);
  });

  it('finds a task and its owner without a caller, and saves it back under that owner', async () => {
    const store = dynamoTasks();
    const owner = context('dave', { tenant: 'acme' });
    await store.save(task('job-task', { state: TaskState.TASK_STATE_WORKING }), owner);
    const found = await store.loadAnyOwner('job-task');
    expect(found).toMatchObject({ owner: { tenant: 'acme', owner: 'dave' }, ownerScope: expect.stringMatching(/#acme#dave$/) });
    expect(found!.task).toStrictEqual(task('job-task'));

    const done = task('job-task', { state: TaskState.TASK_STATE_COMPLETED, timestamp: at(30) });
    await store.saveForOwner(done, found!.owner);
    expect(await store.load('job-task', owner)).toStrictEqual(done);
    expect(await store.load('job-task', context('dave'))).toBeUndefined();
    expect(await store.loadAnyOwner('no-such-task')).toBeUndefined();
  });

  it('refuses to guess when two owners hold the same task id', async () => {
    const store = dynamoTasks();
    await store.save(task('twice'), alice);
    await store.save(task('twice'), bob);
    await expect(store.loadAnyOwner('twice')).rejects.toThrow(/held by 2 owners/);
  });
});

describe('DynamoPushNotificationStore', () => {
  it('deletes every config of a task for one caller with deleteAll', async () => {
    const store = dynamoPush();
    for (const id of ['a', 'b']) await store.save('t1', alice, webhook(id));
    await store.save('t1', bob, webhook('c'));
    await store.deleteAll('t1', alice);
    expect(await store.load('t1', alice)).toEqual([]);
    expect(await store.load('t1', bob)).toEqual([webhook('c')]);
  });

  it('loads every config of a task without a caller, with owners and wire versions, and binds a store to an owner', async () => {
    const store = dynamoPush({ now: ticking() });
    await store.save('t1', context('erin', { tenant: 'acme', version: '1.0' }), webhook('a'));
    await store.save('t1', alice, webhook('b'));
    expect(await store.loadAnyOwner('t1')).toEqual([
      { config: webhook('a'), wireVersion: '1.0', owner: { tenant: 'acme', owner: 'erin' } },
      { config: webhook('b'), wireVersion: '0.3', owner: { tenant: '', owner: 'alice' } },
    ]);
    expect(await store.loadAnyOwner('t2')).toEqual([]);

    // Whatever context the caller-less handler passes, the bound store answers for erin.
    const erins = store.forOwner({ tenant: 'acme', owner: 'erin' });
    expect(await erins.loadWithMetadata!('t1', new ServerCallContext())).toEqual([{ config: webhook('a'), wireVersion: '1.0' }]);
  });

  it('forgets a config past its expiry', async () => {
    let now = Date.now();
    const store = dynamoPush({ ttlSeconds: 60, now: () => now });
    await store.save('t1', alice, webhook('a'));
    now += 61_000;
    expect(await store.load('t1', alice)).toEqual([]);
  });
});
