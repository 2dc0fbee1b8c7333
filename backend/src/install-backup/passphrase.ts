import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export const PASSPHRASE_VARIABLE = 'FIELDSTATION_BACKUP_PASSPHRASE';
const MIN_LENGTH = 12;

/**
 * The archive's passphrase, never from the command line (it would show in `ps` and shell
 * history): FIELDSTATION_BACKUP_PASSPHRASE, else asked on the terminal without echo (twice when
 * making a backup), else the first line of stdin (e.g. piped from a password manager).
 */
export async function readPassphrase(
  env: NodeJS.ProcessEnv,
  { confirm }: { confirm: boolean },
): Promise<string> {
  const fromEnv = env[PASSPHRASE_VARIABLE];
  let passphrase: string;
  if (fromEnv !== undefined) {
    passphrase = fromEnv;
  } else if (process.stdin.isTTY) {
    passphrase = await ask('Backup passphrase: ');
    if (confirm && (await ask('Again: ')) !== passphrase) {
      throw new Error('The two passphrases differ');
    }
  } else {
    passphrase = await firstLine();
  }
  if (passphrase.length < MIN_LENGTH) {
    throw new Error(
      `The backup passphrase must have at least ${MIN_LENGTH} characters ` +
        `(${PASSPHRASE_VARIABLE}, the terminal, or one line on stdin)`,
    );
  }
  return passphrase;
}

function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  // Nothing typed is echoed: the interface writes to a sink.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}

function firstLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
  });
}
