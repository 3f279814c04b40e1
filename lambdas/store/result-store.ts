/** Everything a job keeps in S3: its manifest, raw search results, per-company results and the assembled files. */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CompanyResult, ManifestItem, SearchResult } from '../core/contracts';
import { jobKeys } from '../core/job-layout';
import { crashPoint } from '../shared/crash-point';
import { S3TextUpload } from './s3-text-upload';

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

  async putCompanyResult(jobId: string, result: CompanyResult): Promise<void> {
    await this.putJson(jobKeys.result(jobId, result.index), result);
    // Stored, not yet counted: where a dying storage step hurts most. The local runtime can crash an invocation here.
    await crashPoint('company-result-written');
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

  /** An object written a piece at a time (see S3TextUpload); nothing is visible until it is finished. */
  textUpload(key: string, contentType: string, partSize?: number): S3TextUpload {
    return new S3TextUpload(this.s3, this.bucket, key, contentType, partSize);
  }

  /** A text object's lines as they arrive, never the whole object at once; undefined when it does not exist. */
  async readLines(key: string): Promise<AsyncIterable<string> | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return createInterface({ input: Body as Readable, crlfDelay: Infinity });
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}
