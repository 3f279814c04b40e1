/**
 * Writes one S3 object a piece at a time, holding at most one part in memory: pieces are gathered into parts of
 * `partSize` bytes and sent as a multipart upload. An object that never fills a part is sent with one PutObject.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

/** S3 takes parts of 5 MiB and up (all but the last) and at most 10,000 of them: 8 MiB allows objects of 80 GB. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

export class S3TextUpload {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private uploadId?: string;
  private readonly parts: CompletedPart[] = [];
  private state: 'open' | 'finished' | 'aborted' = 'open';

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly contentType: string,
    private readonly partSize = DEFAULT_PART_SIZE,
  ) {}

  /** Appends text; sends a part first when enough has gathered (the caller waits, which is the back-pressure). */
  async write(text: string): Promise<void> {
    if (this.state !== 'open') throw new Error(`s3://${this.bucket}/${this.key}: write after ${this.state}`);
    const piece = Buffer.from(text, 'utf8');
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    if (this.pendingBytes >= this.partSize) await this.sendPart();
  }

  /** Completes the object: what is left becomes the last part, or the whole object when no part was sent. */
  async finish(): Promise<void> {
    if (this.state !== 'open') throw new Error(`s3://${this.bucket}/${this.key}: finish after ${this.state}`);
    if (this.uploadId === undefined) {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: this.takePending(), ContentType: this.contentType }),
      );
    } else {
      if (this.pendingBytes > 0 || this.parts.length === 0) await this.sendPart();
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts },
        }),
      );
    }
    this.state = 'finished';
  }

  /**
   * Drops an unfinished upload; nothing of it was ever visible. Best effort: it runs after a failure, whose error is
   * the one that matters, and the bucket's lifecycle rule clears parts an abort could not (lib/storage.ts).
   */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.pending = [];
    this.pendingBytes = 0;
    if (this.uploadId === undefined) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }

  private takePending(): Buffer {
    const body = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return body;
  }

  private async sendPart(): Promise<void> {
    this.uploadId ??= (
      await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: this.contentType }))
    ).UploadId!;
    const PartNumber = this.parts.length + 1;
    const { ETag } = await this.s3.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: this.takePending() }),
    );
    this.parts.push({ ETag, PartNumber });
  }
}
