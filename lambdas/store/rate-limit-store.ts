/**
 * The counters of the shared provider rate limits (lambdas/providers/rate-limiter.ts) in DynamoDB: one item per limit
 * key and time slot, in the rate-limits table (lib/storage.ts), expired by its TTL.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DIMENSIONS, type Cost, type RateLimitStore } from '../providers/rate-limiter';

export class DynamoRateLimitStore implements RateLimitStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async tryAdd(slotKey: string, cost: Cost, room: Cost, expiresAt: number): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':expires': expiresAt };
    const adds: string[] = [];
    const conditions: string[] = [];
    for (const dimension of DIMENSIONS) {
      const amount = cost[dimension];
      if (!amount) continue;
      names[`#${dimension}`] = dimension;
      values[`:${dimension}`] = amount;
      adds.push(`#${dimension} :${dimension}`);
      if (room[dimension] !== undefined) {
        // ADD and the check in one conditional write: two callers racing for the last of a slot cannot both get it.
        values[`:room_${dimension}`] = room[dimension];
        conditions.push(`(attribute_not_exists(#${dimension}) OR #${dimension} <= :room_${dimension})`);
      }
    }
    if (adds.length === 0) return true;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { limit_key: slotKey },
          UpdateExpression: `ADD ${adds.join(', ')} SET expires_at = :expires`,
          ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async adjust(slotKey: string, delta: Cost): Promise<void> {
    const dimensions = DIMENSIONS.filter((d) => delta[d]);
    if (dimensions.length === 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { limit_key: slotKey },
          UpdateExpression: `ADD ${dimensions.map((d) => `#${d} :${d}`).join(', ')}`,
          // A slot already expired stays gone: a correction must not leave an item without expires_at behind.
          ConditionExpression: 'attribute_exists(limit_key)',
          ExpressionAttributeNames: Object.fromEntries(dimensions.map((d) => [`#${d}`, d])),
          ExpressionAttributeValues: Object.fromEntries(dimensions.map((d) => [`:${d}`, delta[d]])),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
