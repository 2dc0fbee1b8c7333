import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { FileStoreConfig } from '../config/app-config';
import { checkedKey, type FileStore, type StoredFile } from './file-store';

type S3Config = Extract<FileStoreConfig, { type: 's3' }>;

/** S3's CopyObject copies at most 5 GiB in one request; larger files are streamed through. */
const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;

/**
 * The FileStore on an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, B2, …), so API and workers
 * on different machines share uploads without a shared disk. Writes are multipart uploads
 * streamed from the source: a failed or aborted one never appears as an object.
 */
export class S3FileStore implements FileStore {
  private readonly client: S3Client;

  constructor(
    private readonly config: S3Config,
    private readonly copyLimit = COPY_OBJECT_LIMIT,
  ) {
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // The SDK's default trailing CRC checksums are not understood by every S3-compatible
      // service; SigV4 already signs each request.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, source: Readable): Promise<number> {
    const objectKey = this.objectKey(key);
    let bytes = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => (bytes += chunk.length));
    // A source error (a size limit, an aborted request) must fail the upload, not end it.
    const forward = (error: Error) => counted.destroy(error);
    source.once('error', forward);
    source.pipe(counted);
    try {
      await this.upload(objectKey, counted);
      return bytes;
    } finally {
      source.off('error', forward);
    }
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.objectKey(from);
    const target = this.objectKey(to);
    const { ContentLength } = await this.client.send(
      new HeadObjectCommand({ Bucket: this.config.bucket, Key: source }),
    );
    if ((ContentLength ?? 0) <= this.copyLimit) {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.config.bucket,
          Key: target,
          CopySource: `${this.config.bucket}/${source}`,
        }),
      );
    } else {
      await this.upload(target, await this.read(from));
    }
    await this.remove(from);
  }

  async remove(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
    );
  }

  async list(prefix: string): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.config.bucket, Prefix: `${this.objectKey(prefix)}/` },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        files.push({ key: object.Key.slice(this.config.prefix.length), bytes: object.Size ?? 0 });
      }
    }
    return files;
  }

  async read(key: string): Promise<Readable> {
    const { Body } = await this.client.send(
      new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
    );
    return Body as Readable;
  }

  /** A temporary download, private to this process's user, removed when `work` ends. */
  async withLocalCopy<T>(key: string, work: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'fieldstation-file-'));
    try {
      const path = join(dir, 'file');
      await pipeline(await this.read(key), createWriteStream(path, { mode: 0o600 }));
      return await work(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async upload(objectKey: string, body: Readable): Promise<void> {
    await new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: objectKey, Body: body },
    }).done();
  }

  private objectKey(key: string): string {
    return `${this.config.prefix}${checkedKey(key)}`;
  }
}
