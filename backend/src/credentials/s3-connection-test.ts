import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { SessionsService } from '../auth/sessions.service';
import type { AuthContext } from '../common/auth-context';
import { CredentialConnectionTests } from './credential-connection-tests';
import { CredentialsService } from './credentials.service';
import type { StorageTestReportDto } from './dto/connection-test.dto';
import { s3ClientFor, s3LocationOf, storageFailureOf } from './s3-storage';

/**
 * "Test connection" for an `s3` credential: writes a small random object under the credential's
 * prefix, reads it back, compares, deletes it. Each step's failure is reported with the storage
 * service's own message (a wrong key, a missing bucket, an endpoint that does not answer).
 */
@Injectable()
export class S3ConnectionTest implements OnModuleInit {
  constructor(
    private readonly tests: CredentialConnectionTests,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
  ) {}

  onModuleInit(): void {
    this.tests.register('s3', (auth, id) => this.test(auth, id));
  }

  async test(auth: AuthContext, id: string): Promise<StorageTestReportDto> {
    const credential = await this.credentials.resolve(
      auth.userId,
      id,
      await this.sessions.dataKey(auth.sessionId),
    );
    const client = s3ClientFor(credential, { maxAttempts: 1 });
    const { bucket, prefix } = s3LocationOf(credential);
    const key = `${prefix}fieldstation-connection-test-${randomUUID()}`;
    const content = randomBytes(32).toString('hex');
    const started = Date.now();
    const report = (fields: Omit<StorageTestReportDto, 'type' | 'durationMs'>) => ({
      type: 's3' as const,
      ...fields,
      durationMs: Date.now() - started,
    });
    let step: 'write' | 'read' | 'delete' = 'write';
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: content }));
      step = 'read';
      const read = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const back = await read.Body?.transformToString();
      if (back !== content) {
        return report({
          ok: false,
          failedStep: 'read',
          code: 'READ_BACK_MISMATCH',
          message: `s3://${bucket}/${key} read back different bytes than were written`,
        });
      }
      step = 'delete';
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return report({ ok: true, message: `Wrote, read back and deleted s3://${bucket}/${key}` });
    } catch (error) {
      const failure = storageFailureOf(error);
      return report({ ok: false, failedStep: step, ...failure });
    } finally {
      client.destroy();
    }
  }
}
