/** Per-client counters of the quotas table (lib/storage.ts): requests per minute, research units per day. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface QuotaStore {
  /** Counts one request in the item `key` and answers the count after it (this request included). */
  countRequest(key: string, expiresAt: number): Promise<number>;
  /** Adds `units` to `key` only if the total stays at most `limit`; otherwise changes nothing and answers what is used. */
  reserveUnits(key: string, units: number, limit: number, expiresAt: number): Promise<{ reserved: true } | { reserved: false; used: number }>;
  /** Gives back units reserved in `key` for work that will not run. */
  releaseUnits(key: string, units: number): Promise<void>;
}

export class DynamoQuotaStore implements QuotaStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async countRequest(key: string, expiresAt: number): Promise<number> {
    // One atomic ADD per request: concurrent containers never lose a count, and no read comes first.
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { quota_key: key },
        UpdateExpression: 'ADD requests :one SET expires_at = :expires',
        ExpressionAttributeValues: { ':one': 1, ':expires': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.requests ?? 1);
  }

  async reserveUnits(key: string, units: number, limit: number, expiresAt: number): Promise<{ reserved: true } | { reserved: false; used: number }> {
    if (units <= limit) {
      try {
        // Check and add in one conditional write: two submissions racing for the last units cannot both get them.
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { quota_key: key },
            UpdateExpression: 'ADD units :units SET expires_at = :expires',
            ConditionExpression: 'attribute_not_exists(units) OR units <= :room',
            ExpressionAttributeValues: { ':units': units, ':room': limit - units, ':expires': expiresAt },
          }),
        );
        return { reserved: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    // Refused: read what is used, for the answer (a refusal may cost a second request; a grant never does).
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { quota_key: key }, ConsistentRead: true }));
    return { reserved: false, used: Number(Item?.units ?? 0) };
  }

  async releaseUnits(key: string, units: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { quota_key: key },
        UpdateExpression: 'ADD units :minus',
        ConditionExpression: 'attribute_exists(units)',
        ExpressionAttributeValues: { ':minus': -units },
      }),
    );
  }
}
