/**
 * Durable A2A tasks and push-notification configs in DynamoDB, for @a2a-js/sdk's DefaultRequestHandler.
 * The SDK's in-memory stores live as long as one warm container; these answer GetTask, ListTasks and CancelTask on
 * any container, after a cold start, with the same client-visible semantics (scoping, filters, order, page tokens).
 *
 * One table serves every agent. Item layout:
 *   task:        pk `TASK#<agent>#<task id>`  sk `TASK#<tenant>#<owner>`
 *                owner_scope `<agent>#<tenant>#<owner>`, list_key `<status time>#<task id>` (the `by_owner` index),
 *                task (the SDK's protocol JSON), context_id, state, updated_at, tenant, owner, expires_at
 *   push config: pk `TASK#<agent>#<task id>`  sk `PUSH#<tenant>#<owner>#<config id>`
 *                config (protocol JSON), wire_version, saved_at, tenant, owner, expires_at
 * Each part of a key is URI-encoded, so a `#` inside a tenant or owner name cannot make two scopes meet.
 * The owner is part of the sort key, not only an attribute: like the SDK's stores, two owners may hold the same task
 * id without one overwriting the other, and a task id alone still finds its owner (loadAnyOwner).
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  Task,
  TaskPushNotificationConfig,
  TaskState,
  taskStateToJSON,
  type ListTasksRequest,
  type ListTasksResponse,
} from '@a2a-js/sdk';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import {
  resolveUserScope,
  type OwnerResolver,
  type PushNotificationStore,
  type ServerCallContext,
  type StoredPushNotificationConfig,
  type TaskStore,
} from '@a2a-js/sdk/server';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';

export const TASKS_BY_OWNER_INDEX = 'by_owner';
/** Tasks are transient: a task disappears this long after its last update. */
export const DEFAULT_TASK_TTL_SECONDS = 30 * 24 * 60 * 60;
/** The SDK's defaults, which it does not export: ListTasks' page size and the wire version of a request without A2A-Version. */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;
const LEGACY_WIRE_VERSION = '0.3';
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ATTEMPTS = 6;

export interface A2AStoreOptions {
  /** The agent whose tasks these are ("research", "coordinator"…): part of every scope, since agents share the table. */
  agent: string;
  /** How long an item outlives its last write; default 30 days. */
  ttlSeconds?: number;
  /** Who owns a call's tasks; default the SDK's resolveUserScope (the user name, "unknown" when anonymous). */
  ownerResolver?: OwnerResolver;
  now?: () => number;
}

/** The scope a task lives in, as the SDK's stores define it: the call's tenant ("" when none) and its owner. */
export interface TaskOwner {
  tenant: string;
  owner: string;
}

export interface OwnedTask {
  task: Task;
  owner: TaskOwner;
  /** `<agent>#<tenant>#<owner>`, the partition of the by_owner index. */
  ownerScope: string;
}

export interface OwnedPushConfig extends StoredPushNotificationConfig {
  owner: TaskOwner;
}

type Item = Record<string, any>;

/** Shared by both stores: scopes, keys, the clock and the queries. */
class A2ATable {
  readonly agent: string;
  readonly ttlSeconds: number;
  readonly ownerResolver: OwnerResolver;
  readonly now: () => number;

  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    options: A2AStoreOptions,
  ) {
    if (!options.agent) throw new Error('an A2A store needs the agent it serves');
    this.agent = options.agent;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TASK_TTL_SECONDS;
    this.ownerResolver = options.ownerResolver ?? resolveUserScope;
    this.now = options.now ?? Date.now;
  }

  ownerOf(context: ServerCallContext): TaskOwner {
    return { tenant: context.tenant ?? '', owner: this.ownerResolver(context) };
  }

  ownerScope({ tenant, owner }: TaskOwner): string {
    return [this.agent, tenant, owner].map(encodeURIComponent).join('#');
  }

  pk(taskId: string): string {
    return `TASK#${encodeURIComponent(this.agent)}#${encodeURIComponent(taskId)}`;
  }

  taskSk({ tenant, owner }: TaskOwner): string {
    return `TASK#${encodeURIComponent(tenant)}#${encodeURIComponent(owner)}`;
  }

  pushPrefix({ tenant, owner }: TaskOwner): string {
    return `PUSH#${encodeURIComponent(tenant)}#${encodeURIComponent(owner)}#`;
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  expiresAt(): number {
    return this.nowSeconds() + this.ttlSeconds;
  }

  /** TTL deletion lags by up to two days: an expired item is gone even while it is still there. */
  live(item: Item | undefined): item is Item {
    return !!item && Number(item.expires_at) > this.nowSeconds();
  }

  async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** The items of `keys`, in no particular order; missing ones are left out. */
  async batchGet(keys: Item[]): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Item[] | undefined = keys.slice(i, i + BATCH_GET_LIMIT);
      for (let attempt = 0; pending?.length; attempt++) {
        if (attempt === BATCH_GET_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} task reads unprocessed`);
        // Unprocessed keys mean throttling: back off before asking again.
        if (attempt > 0) await delay(25 * 2 ** attempt * Math.random());
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        found.push(...(Responses?.[this.tableName] ?? []));
        pending = UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined;
      }
    }
    return found;
  }
}

/** A status timestamp as a fixed-width ISO string, so that string order is time order; "" when absent or unreadable. */
function statusTime(timestamp: string | undefined): string {
  const time = timestamp ? Date.parse(timestamp) : NaN;
  return Number.isNaN(time) ? '' : new Date(time).toISOString();
}

/**
 * The by_owner sort key: newest first, ties by task id descending, as the SDK's stores order ListTasks.
 * A task without a timestamp sorts last ("#" is below every digit) and still has a key, so it is still listed.
 */
function listKey(time: string, taskId: string): string {
  return `${time}#${taskId}`;
}

/** The SDK's page token format (base64 of `<status timestamp>|<task id>`), so tokens mean the same with either store. */
function encodePageToken(time: string, taskId: string): string {
  return Buffer.from(`${time}|${taskId}`).toString('base64');
}

function decodePageToken(pageToken: string): { time: string; taskId: string } {
  const bytes = Buffer.from(pageToken, 'base64');
  // Node decodes any string as base64, skipping what it cannot read: a token must be exactly what we would write.
  if (bytes.toString('base64') !== pageToken) throw new RequestMalformedError('Token is not a valid base64-encoded cursor.');
  const [timestamp = '', ...idParts] = bytes.toString('utf-8').split('|');
  const taskId = idParts.join('|');
  if (!taskId || (timestamp && Number.isNaN(Date.parse(timestamp)))) throw new RequestMalformedError('Invalid page token format.');
  return { time: statusTime(timestamp), taskId };
}

/** InMemoryTaskStore's filters, to re-check a task read after the (eventually consistent) index chose it. */
function matchesFilters(task: Task, params: ListTasksRequest): boolean {
  if (params.contextId && task.contextId !== params.contextId) return false;
  if (params.status !== undefined && params.status !== TaskState.TASK_STATE_UNSPECIFIED && task.status?.state !== params.status) {
    return false;
  }
  if (params.statusTimestampAfter) {
    const after = new Date(params.statusTimestampAfter).getTime();
    if (!task.status?.timestamp || !(new Date(task.status.timestamp).getTime() > after)) return false;
  }
  return true;
}

function readTask(item: Item): Task {
  return Task.fromJSON(JSON.parse(item.task as string));
}

function ownerOfItem(item: Item): TaskOwner {
  return { tenant: (item.tenant as string | undefined) ?? '', owner: item.owner as string };
}

/**
 * The SDK's TaskStore in DynamoDB. load/save/list behave as InMemoryTaskStore's do for the same calls: a task of
 * another owner, tenant or agent loads as undefined (the handler answers TaskNotFound, revealing nothing).
 */
export class DynamoTaskStore implements TaskStore {
  private readonly table: A2ATable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: A2AStoreOptions) {
    this.table = new A2ATable(client, tableName, options);
  }

  save(task: Task, context: ServerCallContext): Promise<void> {
    return this.saveForOwner(task, this.table.ownerOf(context));
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const { Item } = await this.table.client.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: { pk: this.table.pk(taskId), sk: this.table.taskSk(this.table.ownerOf(context)) },
        ConsistentRead: true,
      }),
    );
    return this.table.live(Item) ? readTask(Item) : undefined;
  }

  /**
   * InMemoryTaskStore's list: filters contextId, status (UNSPECIFIED = any) and statusTimestampAfter (strictly
   * later); newest status first, ties by task id descending; totalSize counts every match; artifacts are emptied
   * unless includeArtifacts; history is left whole (the request handler applies historyLength). A page token
   * resumes strictly after the task it names, wherever that task is now, as the SDK's DatabaseTaskStore does.
   * The index is eventually consistent: a task saved a moment ago can be missing from a list for a moment, while
   * load (GetTask, CancelTask) reads it consistently.
   */
  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const pageSize = params.pageSize ?? DEFAULT_PAGE_SIZE;
    // The request handler checks this before the store is asked; a direct caller gets the same answer.
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new RequestMalformedError(`pageSize must be between 1 and ${MAX_PAGE_SIZE}`);
    }
    const cursor = params.pageToken ? decodePageToken(params.pageToken) : undefined;
    const empty: ListTasksResponse = { tasks: [], nextPageToken: '', pageSize, totalSize: 0 };

    const names: Record<string, string> = { '#scope': 'owner_scope', '#expires': 'expires_at', '#key': 'list_key' };
    const values: Record<string, unknown> = {
      ':scope': this.table.ownerScope(this.table.ownerOf(context)),
      ':now': this.table.nowSeconds(),
    };
    const filters = ['#expires > :now'];
    if (params.contextId) {
      names['#context'] = 'context_id';
      values[':context'] = params.contextId;
      filters.push('#context = :context');
    }
    if (params.status !== undefined && params.status !== TaskState.TASK_STATE_UNSPECIFIED) {
      names['#state'] = 'state';
      values[':state'] = taskStateToJSON(params.status);
      filters.push('#state = :state');
    }
    if (params.statusTimestampAfter) {
      const after = Date.parse(params.statusTimestampAfter);
      if (Number.isNaN(after)) return empty;
      // "Later than `after`" at millisecond precision is "at or after after + 1 ms" on fixed-width ISO strings.
      names['#updated'] = 'updated_at';
      values[':after'] = new Date(after + 1).toISOString();
      filters.push('#updated >= :after');
    }

    // totalSize needs every match anyway, so one pass over the index (small projected items) finds the count and
    // the page; only the page's tasks are then read in full.
    const matches = await this.table.queryAll({
      IndexName: TASKS_BY_OWNER_INDEX,
      KeyConditionExpression: '#scope = :scope',
      FilterExpression: filters.join(' AND '),
      ProjectionExpression: 'pk, sk, #key',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
    });
    if (matches.length === 0) return empty;

    let start = 0;
    if (cursor) {
      const after = listKey(cursor.time, cursor.taskId);
      start = matches.findIndex((m) => (m.list_key as string) < after);
      if (start === -1) start = matches.length;
    }
    const page = matches.slice(start, start + pageSize);
    const last = page.at(-1);
    const hasMore = start + page.length < matches.length;

    const read = await this.table.batchGet(page.map(({ pk, sk }) => ({ pk, sk })));
    const byKey = new Map(read.map((item) => [item.pk + item.sk, item]));
    const tasks: Task[] = [];
    for (const { pk, sk } of page) {
      const item = byKey.get(pk + sk);
      // Deleted, expired or changed since the index saw it: left out, as the SDK's DatabaseTaskStore leaves out an
      // unreadable row (fewer than pageSize is allowed).
      if (!this.table.live(item)) continue;
      const task = readTask(item);
      if (!matchesFilters(task, params)) continue;
      if (!params.includeArtifacts) task.artifacts = [];
      tasks.push(task);
    }
    return {
      tasks,
      nextPageToken: hasMore && last ? encodePageToken(...splitListKey(last.list_key as string)) : '',
      pageSize,
      totalSize: matches.length,
    };
  }

  /** For callers without a caller (a job-events handler): the task with this id, whoever owns it. */
  async loadAnyOwner(taskId: string): Promise<OwnedTask | undefined> {
    const items = (
      await this.table.queryAll({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :task)',
        ExpressionAttributeValues: { ':pk': this.table.pk(taskId), ':task': 'TASK#' },
        ConsistentRead: true,
      })
    ).filter((item) => this.table.live(item));
    if (items.length === 0) return undefined;
    // Task ids are the server's UUIDs; should two owners ever share one, guessing would hand one owner's task to the other.
    if (items.length > 1) throw new Error(`task ${taskId} of agent ${this.table.agent} is held by ${items.length} owners`);
    const item = items[0]!;
    return { task: readTask(item), owner: ownerOfItem(item), ownerScope: item.owner_scope as string };
  }

  /** Saves a task under the given owner, e.g. the one loadAnyOwner returned, whoever is calling. */
  async saveForOwner(task: Task, owner: TaskOwner): Promise<void> {
    const time = statusTime(task.status?.timestamp);
    const item: Item = {
      pk: this.table.pk(task.id),
      sk: this.table.taskSk(owner),
      owner_scope: this.table.ownerScope(owner),
      list_key: listKey(time, task.id),
      agent: this.table.agent,
      owner: owner.owner,
      task_id: task.id,
      task: JSON.stringify(Task.toJSON(task)),
      expires_at: this.table.expiresAt(),
    };
    // Empty values are left out rather than stored: the filters treat "" and absent alike.
    if (owner.tenant) item.tenant = owner.tenant;
    if (task.contextId) item.context_id = task.contextId;
    if (task.status) item.state = taskStateToJSON(task.status.state);
    if (time) item.updated_at = time;
    await this.table.client.send(new PutCommand({ TableName: this.table.tableName, Item: item }));
  }
}

function splitListKey(key: string): [string, string] {
  const at = key.indexOf('#');
  return [key.slice(0, at), key.slice(at + 1)];
}

/**
 * The SDK's PushNotificationStore in DynamoDB, with InMemoryPushNotificationStore's semantics: save assigns a UUID
 * when the config has no id (in place), replaces a config with the same id and records the call's wire version;
 * load returns configs in the order they were last saved; delete without a configId deletes the config whose id is
 * the task id (the SDK's legacy default), not every config: deleteAll does that.
 */
export class DynamoPushNotificationStore implements PushNotificationStore {
  private readonly table: A2ATable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: A2AStoreOptions) {
    this.table = new A2ATable(client, tableName, options);
  }

  save(taskId: string, context: ServerCallContext, config: TaskPushNotificationConfig): Promise<void> {
    return this.saveForOwner(taskId, this.table.ownerOf(context), config, context.requestedVersion || LEGACY_WIRE_VERSION);
  }

  async load(taskId: string, context: ServerCallContext): Promise<TaskPushNotificationConfig[]> {
    return (await this.loadWithMetadata(taskId, context)).map((entry) => entry.config);
  }

  loadWithMetadata(taskId: string, context: ServerCallContext): Promise<StoredPushNotificationConfig[]> {
    return this.loadForOwner(taskId, this.table.ownerOf(context));
  }

  delete(taskId: string, context: ServerCallContext, configId?: string): Promise<void> {
    return this.deleteForOwner(taskId, this.table.ownerOf(context), configId);
  }

  async deleteAll(taskId: string, context: ServerCallContext): Promise<void> {
    const owner = this.table.ownerOf(context);
    const items = await this.query(taskId, this.table.pushPrefix(owner));
    await Promise.all(items.map((item) => this.deleteItem(item.pk as string, item.sk as string)));
  }

  /** For callers without a caller (a job-events handler): every config of the task, whoever registered it. */
  async loadAnyOwner(taskId: string): Promise<OwnedPushConfig[]> {
    return (await this.query(taskId, 'PUSH#')).map((item) => ({ ...readConfig(item), owner: ownerOfItem(item) }));
  }

  /**
   * This store with the owner fixed, whatever the call's context says: what DefaultPushNotificationSender needs
   * to notify a task's webhooks from a handler that has no caller.
   */
  forOwner(owner: TaskOwner): PushNotificationStore {
    return {
      save: (taskId, context, config) => this.saveForOwner(taskId, owner, config, context.requestedVersion || LEGACY_WIRE_VERSION),
      load: async (taskId) => (await this.loadForOwner(taskId, owner)).map((entry) => entry.config),
      loadWithMetadata: (taskId) => this.loadForOwner(taskId, owner),
      delete: (taskId, _context, configId) => this.deleteForOwner(taskId, owner, configId),
    };
  }

  private async saveForOwner(
    taskId: string,
    owner: TaskOwner,
    config: TaskPushNotificationConfig,
    wireVersion: string,
  ): Promise<void> {
    // The SDK reads the id the store assigns from the object it passed in.
    if (!config.id) config.id = crypto.randomUUID();
    const item: Item = {
      pk: this.table.pk(taskId),
      sk: this.table.pushPrefix(owner) + encodeURIComponent(config.id),
      agent: this.table.agent,
      owner: owner.owner,
      task_id: taskId,
      config_id: config.id,
      config: JSON.stringify(TaskPushNotificationConfig.toJSON(config)),
      wire_version: wireVersion,
      // InMemoryPushNotificationStore lists configs in the order they were last saved.
      saved_at: this.table.now(),
      expires_at: this.table.expiresAt(),
    };
    if (owner.tenant) item.tenant = owner.tenant;
    await this.table.client.send(new PutCommand({ TableName: this.table.tableName, Item: item }));
  }

  private async loadForOwner(taskId: string, owner: TaskOwner): Promise<StoredPushNotificationConfig[]> {
    return (await this.query(taskId, this.table.pushPrefix(owner))).map(readConfig);
  }

  private async deleteForOwner(taskId: string, owner: TaskOwner, configId?: string): Promise<void> {
    await this.deleteItem(this.table.pk(taskId), this.table.pushPrefix(owner) + encodeURIComponent(configId ?? taskId));
  }

  private async deleteItem(pk: string, sk: string): Promise<void> {
    await this.table.client.send(new DeleteCommand({ TableName: this.table.tableName, Key: { pk, sk } }));
  }

  /** Live push items of a task under a sort-key prefix, oldest save first (ties in config-id order). */
  private async query(taskId: string, prefix: string): Promise<Item[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': this.table.pk(taskId), ':prefix': prefix },
      ConsistentRead: true,
    });
    return items.filter((item) => this.table.live(item)).sort((a, b) => Number(a.saved_at) - Number(b.saved_at));
  }
}

function readConfig(item: Item): StoredPushNotificationConfig {
  return {
    config: TaskPushNotificationConfig.fromJSON(JSON.parse(item.config as string)),
    wireVersion: (item.wire_version as string | undefined) || LEGACY_WIRE_VERSION,
  };
}
