/** Everything a job keeps in S3: its manifest, raw search results, per-company results and the assembled files. */
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CompanyResult, ManifestItem, SearchResult } from '../core/contracts';
import { jobKeys } from '../core/job-layout';

/** How many objects are fetched at once when reading a job's results back. */
const READ_CONCURRENCY = 32;

export class ResultStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async putJson(key: string, value: unknown): Promise<void> {
    await this.putText(key, JSON.stringify(value), 'application/json');
  }

  async putText(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await response.Body!.transformToString();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async getManifest(key: string): Promise<ManifestItem[]> {
    const items = await this.getJson<ManifestItem[]>(key);
    if (!items) throw new Error(`the manifest s3://${this.bucket}/${key} is missing`);
    return items;
  }

  async putRawResults(jobId: string, index: number, iteration: number, results: SearchResult[]): Promise<string> {
    const key = jobKeys.rawResults(jobId, index, iteration);
    await this.putJson(key, results);
    return key;
  }

  putCompanyResult(jobId: string, result: CompanyResult): Promise<void> {
    return this.putJson(jobKeys.result(jobId, result.index), result);
  }

  getCompanyResult(jobId: string, index: number): Promise<CompanyResult | undefined> {
    return this.getJson<CompanyResult>(jobKeys.result(jobId, index));
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter(Boolean));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Reads every stored company result of a job, in batch order. */
  async listCompanyResults(jobId: string): Promise<CompanyResult[]> {
    const keys = (await this.listKeys(jobKeys.resultsPrefix(jobId))).sort();
    const results: CompanyResult[] = new Array(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const i = next++;
        results[i] = (await this.getJson<CompanyResult>(keys[i]!))!;
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
    return results.filter(Boolean);
  }
}
