/** Job records: status and progress counters. The interface keeps handlers independent of DynamoDB. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobStatus } from '../core/contracts';

export interface JobRecord {
  job_id: string;
  status: JobStatus;
  total: number;
  completed: number;
  failed: number;
  created_at: string;
  updated_at: string;
  /** Hash of the submitted request: a retried submission with the same idempotency key must match it. */
  request_hash: string;
  manifest_key: string;
  /** The authenticated client that submitted the job, when it came through an authenticated door. */
  submitted_by?: string;
  /**
   * `single`: one company on the EXPRESS company machine, closed by its own storage step (no assembly runs after it).
   * Absent on jobs recorded before it existed, all batches.
   */
  kind?: 'batch' | 'single';
  execution_arn?: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
  results_jsonl_key?: string;
  results_csv_key?: string;
  /** Where the job's summary is POSTed when it ends. */
  callback_url?: string;
  /** The batch's spending cap (max_cost_usd of its request). */
  max_cost_usd?: number;
  /** What the job's counted companies spent (their results' `cost.usd`, list prices), summed from its progress. */
  cost_usd?: number;
  /** How many times its failed companies were run again (POST /jobs/{job_id}/redrive). */
  redrives?: number;
  /** How that delivery went (absent until the job ended). */
  webhook?: { status: 'delivered' | 'failed'; attempts: number; last_status_code?: number; last_error?: string; at: string };
}

export type NewJob = Pick<JobRecord, 'job_id' | 'total' | 'request_hash' | 'manifest_key' | 'submitted_by' | 'kind' | 'callback_url' | 'max_cost_usd'>;

export interface JobStore {
  /** Creates the job, or returns the existing one when the id is taken. */
  create(job: NewJob, now: Date): Promise<{ created: boolean; job: JobRecord }>;
  /** The job with its progress (counters summed from its progress items). */
  get(jobId: string): Promise<JobRecord | undefined>;
  /** The job's own item, its progress not read: for callers that need only what it is and how it stands. */
  getRecord(jobId: string): Promise<Omit<JobRecord, 'completed' | 'failed'> | undefined>;
  /**
   * Counts one company's outcome once, however often it is reported (Lambda retries, a storage step run twice).
   * One change is allowed: a company counted failed that later completes (a redrive) moves to completed.
   * `costUsd`, what the company's run spent, is added to the job's spend with the count, so it too is added once
   * (a redrive's run adds its own: both were spent). Returns false when nothing changed.
   */
  countOutcome(jobId: string, index: number, outcome: CompanyOutcome, now: Date, costUsd?: number): Promise<boolean>;
  /** Every counted company's outcome, by index: what a redrive re-runs and what reconciliation compares. */
  countedOutcomes(jobId: string, total: number): Promise<Map<number, CompanyOutcome>>;
  /**
   * Reopens an ended batch job for a redrive: SUBMITTED again, its error and webhook delivery cleared (the redrive's
   * end is delivered anew), `redrives` one higher. Only from the status and redrive count the caller read, so two
   * redrives at once cannot both start; false when the job changed in between.
   */
  reopenForRedrive(job: Pick<JobRecord, 'job_id' | 'status' | 'redrives'>, executionArn: string, now: Date): Promise<boolean>;
  /** Undoes reopenForRedrive when the redrive's execution could not start: the job ends as it was. */
  restoreAfterRedrive(previous: JobRecord, now: Date): Promise<void>;
  markFailed(jobId: string, error: string, now: Date): Promise<void>;
  /** For jobs run outside the batch state machine (one company): what its MarkJobDone state does. */
  markRunning(jobId: string, executionArn: string, now: Date): Promise<void>;
  /** Completes a job that has not ended yet; false when it had already ended (a repeat changes nothing). */
  markCompleted(jobId: string, results: { jsonlKey: string; csvKey: string }, now: Date): Promise<boolean>;
  /** Ends a job that has not ended yet; false when it had already ended (its status stays what it was). */
  markEnded(jobId: string, status: 'FAILED' | 'CANCELLED', reason: string, now: Date): Promise<boolean>;
  /**
   * One client's jobs, newest first, a page at a time; `nextToken` is the previous page's. Jobs without
   * `submitted_by` are nobody's. Throws InvalidPageToken for a token this store did not write.
   */
  listForClient(clientId: string, page: { limit: number; nextToken?: string }): Promise<{ jobs: JobRecord[]; nextToken?: string }>;
  /** Records how the job's webhook delivery went; a delivery already recorded as delivered is never overwritten. */
  recordWebhook(jobId: string, delivery: NonNullable<JobRecord['webhook']>): Promise<void>;
}

export type CompanyOutcome = 'completed' | 'failed';

/**
 * Companies per progress item. A job's progress is counted in items beside it (`<job_id>#progress-<n>`, companies
 * n×256 … n×256+255), each holding its counters and the indexes it counted: a count rewrites at most a ~2 KB item,
 * never one that grows with the batch, and reading a 10,000-company job's progress is one BatchGet of 40 items.
 */
export const PROGRESS_SHARD_SIZE = 256;
const progressKey = (jobId: string, shard: number) => `${jobId}#progress-${shard}`;
const shardCount = (total: number) => Math.ceil(total / PROGRESS_SHARD_SIZE);

interface ProgressShard {
  completed?: number;
  failed?: number;
  cost_usd?: number;
  completed_indexes?: Set<string>;
  failed_indexes?: Set<string>;
  updated_at?: string;
}

/** The jobs table's index of each client's jobs by creation time (lib/storage.ts): keys only. */
export const JOBS_BY_CLIENT_INDEX = 'by_client';

/** A page token that is not one listForClient wrote. */
export class InvalidPageToken extends Error {
  override readonly name = 'InvalidPageToken';
}

/** The position after a job in its client's listing: base64url of `<created_at>|<job_id>` (the client is the caller). */
function encodePageToken(job: Pick<JobRecord, 'created_at' | 'job_id'>): string {
  return Buffer.from(`${job.created_at}|${job.job_id}`).toString('base64url');
}

function decodePageToken(token: string): { created_at: string; job_id: string } {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([\w-]{1,100})$/.exec(text);
  // Node decodes any string, skipping what it cannot read: a token must be exactly what encodePageToken writes.
  if (!match || Buffer.from(text).toString('base64url') !== token) throw new InvalidPageToken('next_token is not a token this listing gave out');
  return { created_at: match[1]!, job_id: match[2]! };
}

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(job: NewJob, now: Date): Promise<{ created: boolean; job: JobRecord }> {
    const { completed: _c, failed: _f, ...item } = {
      ...job,
      status: 'SUBMITTED' as const,
      completed: 0,
      failed: 0,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    try {
      // The counters live in the progress items, not on the job.
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(job_id)' }));
      return { created: true, job: { ...item, completed: 0, failed: 0 } };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(job.job_id);
      if (!existing) throw error;
      return { created: false, job: existing };
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const record = await this.getRecord(jobId);
    return record && (await this.withProgress([record as JobRecord]))[0];
  }

  async getRecord(jobId: string): Promise<Omit<JobRecord, 'completed' | 'failed'> | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { job_id: jobId }, ConsistentRead: true }));
    return Item as Omit<JobRecord, 'completed' | 'failed'> | undefined;
  }

  /** Jobs with their counters summed from their progress items (one BatchGet for all of them). */
  private async withProgress(jobs: JobRecord[]): Promise<JobRecord[]> {
    const shards = await this.getItems(jobs.flatMap((job) => Array.from({ length: shardCount(job.total) }, (_, n) => progressKey(job.job_id, n))), [
      'job_id',
      'completed',
      'failed',
      'cost_usd',
      'updated_at',
    ]);
    return jobs.map((job) => {
      let { completed, failed, cost_usd, updated_at } = { completed: 0, failed: 0, cost_usd: 0, updated_at: job.updated_at };
      for (let n = 0; n < shardCount(job.total); n++) {
        const shard = shards.get(progressKey(job.job_id, n)) as ProgressShard | undefined;
        if (!shard) continue;
        completed += shard.completed ?? 0;
        failed += shard.failed ?? 0;
        cost_usd += shard.cost_usd ?? 0;
        if (shard.updated_at && shard.updated_at > updated_at) updated_at = shard.updated_at;
      }
      // Summed from micro-dollars' worth of floats: rounded as the results round each company's cost.
      return { ...job, completed, failed, cost_usd: Math.round(cost_usd * 1_000_000) / 1_000_000, updated_at };
    });
  }

  /** Items by key (jobs or progress items), strongly consistent; absent ones are simply missing from the map. */
  private async getItems(keys: string[], attributes?: string[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    const projection = attributes && {
      ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a])),
    };
    for (let start = 0; start < keys.length; start += 100) {
      let pending: Record<string, unknown>[] = keys.slice(start, start + 100).map((job_id) => ({ job_id }));
      for (let attempt = 0; pending.length; attempt++) {
        // Keys come back unprocessed when the table is throttled: back off before asking again.
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2_000)));
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true, ...projection } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) found.set(item.job_id as string, item);
        pending = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  async countOutcome(jobId: string, index: number, outcome: CompanyOutcome, now: Date, costUsd = 0): Promise<boolean> {
    const key = { job_id: progressKey(jobId, Math.floor(index / PROGRESS_SHARD_SIZE)) };
    const values = { ':one': 1, ':index': new Set([String(index)]), ':indexValue': String(index), ':now': now.toISOString(), ':cost': costUsd };
    try {
      // One conditional update on one item: a counter and its set of indexes change together or not at all.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD #outcome :one, #indexes :index, cost_usd :cost SET updated_at = :now',
          ConditionExpression: 'NOT contains(completed_indexes, :indexValue) AND NOT contains(failed_indexes, :indexValue)',
          ExpressionAttributeNames: { '#outcome': outcome, '#indexes': `${outcome}_indexes` },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    if (outcome === 'failed') return false;
    try {
      // Counted failed before and completed now (a redrive): moved, in the same single-item update.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD completed :one, completed_indexes :index, failed :minusOne, cost_usd :cost DELETE failed_indexes :index SET updated_at = :now',
          ConditionExpression: 'contains(failed_indexes, :indexValue)',
          ExpressionAttributeValues: { ...values, ':minusOne': -1 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async countedOutcomes(jobId: string, total: number): Promise<Map<number, CompanyOutcome>> {
    const keys = Array.from({ length: shardCount(total) }, (_, n) => progressKey(jobId, n));
    const outcomes = new Map<number, CompanyOutcome>();
    for (const shard of (await this.getItems(keys)).values() as Iterable<ProgressShard>) {
      for (const index of shard.failed_indexes ?? []) outcomes.set(Number(index), 'failed');
      for (const index of shard.completed_indexes ?? []) outcomes.set(Number(index), 'completed');
    }
    return outcomes;
  }

  async reopenForRedrive(job: Pick<JobRecord, 'job_id' | 'status' | 'redrives'>, executionArn: string, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { job_id: job.job_id },
          // The redrive's execution from now on: a cancel stops that one, not the ended one before it.
          UpdateExpression: 'SET #status = :submitted, redrives = :next, execution_arn = :arn, updated_at = :now REMOVE #error, finished_at, webhook',
          ConditionExpression: `#status = :was AND (${job.redrives ? '' : 'attribute_not_exists(redrives) OR '}redrives = :redrives)`,
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':submitted': 'SUBMITTED',
            ':was': job.status,
            ':next': (job.redrives ?? 0) + 1,
            ':arn': executionArn,
            ':now': now.toISOString(),
            ':redrives': job.redrives ?? 0,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async restoreAfterRedrive(previous: JobRecord, now: Date): Promise<void> {
    const restored = { status: previous.status, execution_arn: previous.execution_arn, finished_at: previous.finished_at, error: previous.error, webhook: previous.webhook };
    const present = Object.entries(restored).filter(([, value]) => value !== undefined);
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { job_id: previous.job_id },
        UpdateExpression: `SET ${present.map(([name]) => `#${name} = :${name}`).join(', ')}, redrives = :redrives, updated_at = :now`,
        ConditionExpression: '#status = :submitted',
        ExpressionAttributeNames: { ...Object.fromEntries(present.map(([name]) => [`#${name}`, name])), '#status': 'status' },
        ExpressionAttributeValues: {
          ...Object.fromEntries(present.map(([name, value]) => [`:${name}`, value])),
          ':redrives': previous.redrives ?? 0,
          ':now': now.toISOString(),
          ':submitted': 'SUBMITTED',
        },
      }),
    );
  }

  async markFailed(jobId: string, error: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { job_id: jobId },
        UpdateExpression: 'SET #status = :failed, #error = :error, updated_at = :now',
        ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
        ExpressionAttributeValues: { ':failed': 'FAILED', ':error': error, ':now': now.toISOString() },
      }),
    );
  }

  async markRunning(jobId: string, executionArn: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { job_id: jobId },
        UpdateExpression: 'SET #status = :running, execution_arn = :arn, started_at = :now, updated_at = :now',
        ConditionExpression: 'attribute_exists(job_id)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING', ':arn': executionArn, ':now': now.toISOString() },
      }),
    );
  }

  async markCompleted(jobId: string, results: { jsonlKey: string; csvKey: string }, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { job_id: jobId },
          UpdateExpression: 'SET #status = :done, results_jsonl_key = :jsonl, results_csv_key = :csv, finished_at = :now, updated_at = :now',
          // Only an open job: a retried storage step leaves finished_at alone, a job already FAILED or CANCELLED stays so.
          ConditionExpression: 'attribute_exists(job_id) AND #status IN (:submitted, :running)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':done': 'COMPLETED',
            ':jsonl': results.jsonlKey,
            ':csv': results.csvKey,
            ':now': now.toISOString(),
            ':submitted': 'SUBMITTED',
            ':running': 'RUNNING',
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markEnded(jobId: string, status: 'FAILED' | 'CANCELLED', reason: string, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { job_id: jobId },
          UpdateExpression: 'SET #status = :status, #error = :reason, finished_at = :now, updated_at = :now',
          ConditionExpression: 'attribute_exists(job_id) AND #status IN (:submitted, :running)',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: { ':status': status, ':reason': reason, ':now': now.toISOString(), ':submitted': 'SUBMITTED', ':running': 'RUNNING' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async listForClient(clientId: string, page: { limit: number; nextToken?: string }): Promise<{ jobs: JobRecord[]; nextToken?: string }> {
    const after = page.nextToken ? decodePageToken(page.nextToken) : undefined;
    // One more than the page: a next_token only when another job follows, never a last page that comes back empty.
    const keys: { job_id: string; created_at: string }[] = [];
    let start: Record<string, unknown> | undefined = after && { submitted_by: clientId, ...after };
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: JOBS_BY_CLIENT_INDEX,
          KeyConditionExpression: 'submitted_by = :client',
          ExpressionAttributeValues: { ':client': clientId },
          ScanIndexForward: false,
          Limit: page.limit + 1 - keys.length,
          ExclusiveStartKey: start,
        }),
      );
      keys.push(...((result.Items ?? []) as typeof keys));
      start = result.LastEvaluatedKey;
    } while (start && keys.length <= page.limit);

    const pageKeys = keys.slice(0, page.limit);
    // The index holds keys only; the jobs themselves are read from the table, as they are now.
    const items = await this.getItems(pageKeys.map((k) => k.job_id));
    const jobs = await this.withProgress(pageKeys.flatMap((k) => (items.get(k.job_id) as JobRecord | undefined) ?? []));
    return {
      // In the index's order; a job the index still lists but the table no longer holds (expired) is left out.
      jobs,
      ...(keys.length > page.limit ? { nextToken: encodePageToken(pageKeys.at(-1)!) } : {}),
    };
  }

  async recordWebhook(jobId: string, delivery: NonNullable<JobRecord['webhook']>): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { job_id: jobId },
          UpdateExpression: 'SET webhook = :delivery',
          // An EventBridge retry after a delivery that worked must not turn it into a failure.
          ConditionExpression: 'attribute_exists(job_id) AND (attribute_not_exists(webhook) OR webhook.#status <> :delivered)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':delivery': delivery, ':delivered': 'delivered' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
