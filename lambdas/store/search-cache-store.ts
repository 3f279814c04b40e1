/** The search cache in DynamoDB: one item per query, expired by the table's TTL. */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SearchCache } from '../providers/cached-search';
import type { SearchHit } from '../providers/search-provider';

/** DynamoDB items stop at 400 KB; an answer near that is not worth the write. */
const MAX_CACHED_BYTES = 300 * 1024;

export class DynamoSearchCache implements SearchCache {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<SearchHit[] | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { cache_key: key } }));
    // TTL deletion lags by up to two days: an expired item is a miss even while it is still there.
    if (!Item || Number(Item.expires_at) * 1000 <= this.now()) return undefined;
    return JSON.parse(Item.hits as string) as SearchHit[];
  }

  async put(key: string, hits: SearchHit[], ttlSeconds: number): Promise<void> {
    const body = JSON.stringify(hits);
    if (Buffer.byteLength(body) > MAX_CACHED_BYTES) return;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { cache_key: key, hits: body, expires_at: Math.floor(this.now() / 1000) + ttlSeconds },
      }),
    );
  }
}
