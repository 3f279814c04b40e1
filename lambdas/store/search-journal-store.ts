/** The research steps' search journal (lambdas/providers/search-journal.ts), in the search cache's table. */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SearchJournal } from '../providers/search-journal';
import type { SearchResponse } from '../providers/search-provider';

/** DynamoDB items stop at 400 KB; an answer that large is sent again rather than kept. */
const MAX_JOURNALED_BYTES = 300 * 1024;

export class DynamoSearchJournal implements SearchJournal {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<SearchResponse | undefined> {
    // Strongly consistent: a retry may start within a second of the attempt that wrote it.
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { cache_key: key }, ConsistentRead: true }));
    if (!Item || Number(Item.expires_at) * 1000 <= this.now()) return undefined;
    return { hits: JSON.parse(Item.hits as string), credits: Number(Item.credits) };
  }

  async put(key: string, response: SearchResponse, ttlSeconds: number): Promise<void> {
    const hits = JSON.stringify(response.hits);
    if (Buffer.byteLength(hits) > MAX_JOURNALED_BYTES) return;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { cache_key: key, hits, credits: response.credits, expires_at: Math.floor(this.now() / 1000) + ttlSeconds },
      }),
    );
  }
}
