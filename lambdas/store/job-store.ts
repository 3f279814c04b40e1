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
  error?: string;
  results_jsonl_key?: string;
  results_csv_key?: string;
  /** Where the job's summary is POSTed when it ends. */
  callback_url?: string;
  /** How that delivery went (absent until the job ended). */
  webhook?: { status: 'delivered' | 'failed'; attempts: number; last_status_code?: number; last_error?: string; at: string };
}

export type NewJob = Pick<JobRecord, 'job_id' | 'total' | 'request_hash' | 'manifest_key' | 'submitted_by' | 'kind' | 'callback_url'>;

export interface JobStore {
  /** Creates the job, or returns the existing one when the id is taken. */
  create(job: NewJob, now: Date): Promise<{ created: boolean; job: JobRecord }>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /**
   * Counts one company's outcome exactly once, however often it is reported (Lambda retries, redrives).
   * Returns false when this company had already been counted.
   */
  countOutcome(jobId: string, index: number, outcome: 'completed' | 'failed', now: Date): Promise<boolean>;
  /** countOutcome, answering with the job as it stands afterwards (counted now or before): whether it is all counted. */
  countOutcomeAndRead(jobId: string, index: number, outcome: 'completed' | 'failed', now: Date): Promise<{ counted: boolean; job: JobRecord }>;
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
    const record: JobRecord = {
      ...job,
      status: 'SUBMITTED',
      completed: 0,
      failed: 0,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: 'attribute_not_exists(job_id)' }),
      );
      return { created: true, job: record };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(job.job_id);
      if (!existing) throw error;
      return { created: false, job: existing };
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { job_id: jobId }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { counted: _counted, ...job } = Item;
    return job as JobRecord;
  }

  async countOutcome(jobId: string, index: number, outcome: 'completed' | 'failed', now: Date): Promise<boolean> {
    return (await this.countOutcomeAndRead(jobId, index, outcome, now)).counted;
  }

  async countOutcomeAndRead(jobId: string, index: number, outcome: 'completed' | 'failed', now: Date): Promise<{ counted: boolean; job: JobRecord }> {
    try {
      // One conditional update on one item: the counter and the set of counted companies change together or not at all.
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { job_id: jobId },
          UpdateExpression: 'ADD #outcome :one, counted :index SET updated_at = :now',
          ConditionExpression: 'attribute_exists(job_id) AND NOT contains(counted, :indexValue)',
          ExpressionAttributeNames: { '#outcome': outcome },
          ExpressionAttributeValues: {
            ':one': 1,
            ':index': new Set([String(index)]),
            ':indexValue': String(index),
            ':now': now.toISOString(),
          },
          // The job after this count, in the same request: no second read to learn whether it is all counted.
          ReturnValues: 'ALL_NEW',
        }),
      );
      const { counted: _counted, ...job } = Attributes!;
      return { counted: true, job: job as JobRecord };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const job = await this.get(jobId);
        if (!job) throw new Error(`job ${jobId} does not exist`);
        return { counted: false, job };
      }
      throw error;
    }
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
    // The index holds keys only (a count never rewrites it); the jobs themselves are read from the table, as they are now.
    const byId = new Map<string, JobRecord>();
    let pending: Record<string, unknown>[] = pageKeys.map((k) => ({ job_id: k.job_id }));
    for (let attempt = 0; pending.length; attempt++) {
      // Keys come back unprocessed when the table is throttled: back off before asking again.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2_000)));
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const { counted: _counted, ...job } of Responses?.[this.tableName] ?? []) byId.set(job.job_id as string, job as JobRecord);
      pending = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
    return {
      // In the index's order; a job the index still lists but the table no longer holds (expired) is left out.
      jobs: pageKeys.flatMap((k) => byId.get(k.job_id) ?? []),
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
