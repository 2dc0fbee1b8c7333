import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, truncationMarker } from './line-splitter';
import { type OutputLine, SshClient } from './ssh-client';
import { HostKeyMismatchError, HostUnreachableError, SshCommandError } from './ssh-errors';
import { testSshTarget } from './testing/test-ssh-host';

const client = new SshClient();
const target = testSshTarget();
const scratch = mkdtempSync(join(tmpdir(), 'fs-ssh-test-'));
chmodSync(scratch, 0o755); // the remote login user reads from here
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('SshClient against the private sshd', () => {
  it('trusts on first use and returns the fingerprint OpenSSH prints for the host key', async () => {
    const hostKey = await client.waitUntilReachable({ ...target, hostKeyFingerprint: null });
    const keygen = execFileSync('ssh-keygen', [
      '-l',
      '-E',
      'sha256',
      '-f',
      process.env.FS_TEST_SSH_HOST_PUBLIC_KEY_FILE!,
    ]).toString();
    expect(keygen.split(' ')[1]).toBe(hostKey.fingerprint);
    expect(hostKey.fingerprint).toBe(target.hostKeyFingerprint);
    expect(hostKey.publicKey).toBe(
      readFileSync(process.env.FS_TEST_SSH_HOST_PUBLIC_KEY_FILE!, 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' '),
    );
  });

  it('refuses a host whose key differs from the stored one, naming both fingerprints', async () => {
    const stored = 'SHA256:' + createHash('sha256').update('another host').digest('base64');
    const attempt = client.waitUntilReachable(
      { ...target, hostKeyFingerprint: stored.replace(/=+$/, '') },
      { timeoutMs: 30_000 },
    );
    await expect(attempt).rejects.toBeInstanceOf(HostKeyMismatchError);
    await expect(attempt).rejects.toThrow(
      `expected ${stored.replace(/=+$/, '')}, got ${target.hostKeyFingerprint}`,
    );
  });

  it('gives up on a closed port after the wait budget, naming host, port and cause', async () => {
    const port = await freePort();
    const started = Date.now();
    const attempt = client.waitUntilReachable(
      { ...target, port },
      { timeoutMs: 2_000, initialDelayMs: 100 },
    );
    await expect(attempt).rejects.toBeInstanceOf(HostUnreachableError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`^host 127\\.0\\.0\\.1:${port} unreachable after \\d+ s: .*ECONNREFUSED`),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('keeps retrying a key the host does not accept, then names the authentication failure', async () => {
    const keyFile = join(scratch, 'stranger_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const privateKey = readFileSync(keyFile, 'utf8');
    const attempt = client.waitUntilReachable(
      { ...target, privateKey },
      { timeoutMs: 1_500, initialDelayMs: 100 },
    );
    await expect(attempt).rejects.toThrow(/unreachable after \d+ s: .*authentication/i);
  });

  it('runs an argument array literally and streams stdout and stderr lines', async () => {
    const session = await client.connect(target);
    try {
      const lines: OutputLine[] = [];
      const tricky = `it's $HOME; \`id\` "quoted" && echo injected`;
      await session.run(['printf', '%s\\n', tricky, 'second'], (line) => lines.push(line));
      await session.run(['sh', '-c', 'echo to-stderr >&2'], (line) => lines.push(line));
      expect(lines).toEqual([
        { stream: 'stdout', line: tricky },
        { stream: 'stdout', line: 'second' },
        { stream: 'stderr', line: 'to-stderr' },
      ]);
    } finally {
      session.close();
    }
  });

  it('passes stdin and cuts a 50 MB output line without a newline to its first MAX_LINE_BYTES and a marker', async () => {
    const session = await client.connect(target);
    try {
      const lines: OutputLine[] = [];
      await session.run(
        ['sh', '-c', 'head -c 52428800 /dev/zero | tr "\\0" x; cat'],
        (line) => lines.push(line),
        '\nfrom stdin\n',
      );
      expect(lines.map(({ stream, line }) => [stream, line.length])).toEqual([
        ['stdout', MAX_LINE_BYTES + truncationMarker(52428800 - MAX_LINE_BYTES).length],
        ['stdout', 'from stdin'.length],
      ]);
      expect(lines[0]!.line.startsWith('xxxx')).toBe(true);
      expect(lines[0]!.line.endsWith(truncationMarker(52428800 - MAX_LINE_BYTES))).toBe(true);
      expect(lines[1]!.line).toBe('from stdin');
    } finally {
      session.close();
    }
  });

  it('reports a failing command with its exit code and stderr', async () => {
    const session = await client.connect(target);
    try {
      await expect(session.run(['sh', '-c', 'echo broken pipe >&2; exit 3'])).rejects.toThrow(
        new SshCommandError('sh -c echo broken pipe >&2; exit 3', 3, null, 'broken pipe'),
      );
    } finally {
      session.close();
    }
  });

  it('downloads a remote file byte for byte as a stream', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(scratch, 'dump.bin');
    writeFileSync(path, content, { mode: 0o644 });
    const session = await client.connect(target);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await session.download(path)) chunks.push(chunk as Buffer);
      expect(createHash('sha256').update(Buffer.concat(chunks)).digest('hex')).toBe(
        createHash('sha256').update(content).digest('hex'),
      );
    } finally {
      session.close();
    }
  });

  it("streams a command's binary stdout byte for byte, and ends it only after exit 0", async () => {
    const content = randomBytes(5 * 1024 * 1024 + 3);
    const path = join(scratch, 'output.bin');
    writeFileSync(path, content, { mode: 0o644 });
    const session = await client.connect(target);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await session.streamOutput(['cat', path])) {
        chunks.push(chunk as Buffer);
      }
      expect(Buffer.concat(chunks).equals(content)).toBe(true);
    } finally {
      session.close();
    }
  });

  it('fails the stream of a command that exits non-zero after its output, with its stderr', async () => {
    const session = await client.connect(target);
    try {
      const chunks: Buffer[] = [];
      const reading = (async () => {
        const output = await session.streamOutput([
          'sh',
          '-c',
          'printf partial; echo dump failed >&2; exit 4',
        ]);
        for await (const chunk of output) chunks.push(chunk as Buffer);
      })();
      await expect(reading).rejects.toThrow(
        new SshCommandError(
          'sh -c printf partial; echo dump failed >&2; exit 4',
          4,
          null,
          'dump failed',
        ),
      );
      expect(Buffer.concat(chunks).toString()).toBe('partial');
    } finally {
      session.close();
    }
  });
});
