/**
 * Ref updates applied all together or not at all: one `git update-ref --stdin` transaction.
 * The queue moves entries and writes experiment refs this way, so a killed process leaves each
 * ref either as it was or as it was meant to become.
 */
import { spawn } from 'node:child_process';

/** A transaction's outcome: `message` is git's last error line when it was refused. */
export type RefUpdate = { ok: true } | { ok: false; message: string };

/**
 * Applies `commands` (`create REF NEW`, `update REF NEW [OLD]`, `delete REF OLD`, as
 * `git update-ref --stdin` reads them) in one transaction. A refusal (a ref that moved, one
 * that already exists) is data; git missing is too, with its error as the message.
 */
export function updateRefs(
  cwd: string,
  env: NodeJS.ProcessEnv,
  commands: readonly string[],
): Promise<RefUpdate> {
  const input = ['start', ...commands, 'commit', ''].join('\n');
  return new Promise((resolve) => {
    const child = spawn('git', ['update-ref', '--stdin'], {
      cwd,
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      resolve({ ok: false, message: error.message });
    });
    child.on('close', (code) => {
      if (code === 0) resolve({ ok: true });
      else
        resolve({ ok: false, message: stderr.trim().split('\n').pop() ?? `exit ${String(code)}` });
    });
    // A refused transaction makes git exit before reading everything: EPIPE is expected then.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
