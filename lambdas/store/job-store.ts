/** Job records: status and progress counters. The interface keeps handlers independent of DynamoDB. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
  execution_arn?: string;
  error?: string;
  results_jsonl_key?: string;
  results_csv_key?: string;
}

export type NewJob = Pick<JobRecord, 'job_id' | 'total' | 'request_hash' | 'manifest_key' | 'submitted_by'>;

export interface JobStore {
  /** Creates the job, or returns the existing one when the id is taken. */
  create(job: NewJob, now: Date): Promise<{ created: boolean; job: JobRecord }>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /**
   * Counts one company's outcome exactly once, however often it is reported (Lambda retries, redrives).
   * Returns false when this company had already been counted.
   */
  countOutcome(jobId: string, index: number, outcome: 'completed' | 'failed', now: Date): Promise<boolean>;
  markFailed(jobId: string, error: string, now: Date): Promise<void>;
  /** For jobs run outside the batch state machine (one company): what its MarkJobDone state does. */
  markRunning(jobId: string, executionArn: string, now: Date): Promise<void>;
  markCompleted(jobId: string, results: { jsonlKey: string; csvKey: string }, now: Date): Promise<void>;
  /** Ends a job that has not ended yet; false when it had already ended (its status stays what it was). */
  markEnded(jobId: string, status: 'FAILED' | 'CANCELLED', reason: string, now: Date): Promise<boolean>;
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
    try {
      // One conditional update on one item: the counter and the set of counted companies change together or not at all.
      await this.client.send(
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
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const job = await this.get(jobId);
        if (!job) throw new Error(`job ${jobId} does not exist`);
        return false;
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

  async markCompleted(jobId: string, results: { jsonlKey: string; csvKey: string }, now: Date): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { job_id: jobId },
        UpdateExpression: 'SET #status = :done, results_jsonl_key = :jsonl, results_csv_key = :csv, finished_at = :now, updated_at = :now',
        ConditionExpression: 'attribute_exists(job_id)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'COMPLETED', ':jsonl': results.jsonlKey, ':csv': results.csvKey, ':now': now.toISOString() },
      }),
    );
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
}
