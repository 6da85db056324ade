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

/**
 * One long-lived `git update-ref --stdin` for many transactions, one after the other: the queue
 * runner moves two refs per experiment, and a git start each time would cost more than the
 * update. A refused transaction ends git's session (it exits); the next one starts another.
 * Each transaction is still all or nothing: git aborts an unfinished one when its input ends.
 */
export class RefSession {
  readonly #cwd: string;
  readonly #env: NodeJS.ProcessEnv;
  #git: SessionProcess | undefined;
  /** transactions run in order */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.#cwd = cwd;
    this.#env = env;
  }

  apply(commands: readonly string[]): Promise<RefUpdate> {
    const result = this.#tail.then(() => this.#transact(commands));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #transact(commands: readonly string[]): Promise<RefUpdate> {
    this.#git ??= new SessionProcess(this.#cwd, this.#env);
    const git = this.#git;
    git.send(['start', ...commands, 'commit', ''].join('\n'));
    for (const expected of ['start: ok', 'commit: ok']) {
      const line = await git.nextLine();
      if (line === expected) continue;
      this.#git = undefined;
      git.end();
      await git.exited;
      return { ok: false, message: git.lastError() ?? `git update-ref said: ${line ?? 'nothing'}` };
    }
    return { ok: true };
  }

  /** Ends the session after the transactions asked for. */
  async close(): Promise<void> {
    await this.#tail;
    const git = this.#git;
    this.#git = undefined;
    if (git === undefined) return;
    git.end();
    await git.exited;
  }
}

/** `git update-ref --stdin` with its answers read line by line. */
class SessionProcess {
  readonly #child;
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string | undefined) => void)[] = [];
  #pending = '';
  #stderr = '';
  #closed = false;
  readonly exited: Promise<void>;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.#child = spawn('git', ['update-ref', '--stdin'], { cwd, env, stdio: 'pipe' });
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => {
      const parts = (this.#pending + chunk).split('\n');
      this.#pending = parts.pop() ?? '';
      for (const line of parts) {
        const waiter = this.#waiting.shift();
        if (waiter === undefined) this.#lines.push(line);
        else waiter(line);
      }
    });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.#child.stdin.on('error', () => undefined); // EPIPE once git has given up
    this.exited = new Promise((resolve) => {
      const done = (): void => {
        this.#closed = true;
        for (const waiter of this.#waiting.splice(0)) waiter(undefined);
        resolve();
      };
      this.#child.on('close', done);
      this.#child.on('error', (error) => {
        this.#stderr += error.message;
        done();
      });
    });
  }

  send(text: string): void {
    if (!this.#closed) this.#child.stdin.write(text);
  }

  /** The next line git answered; undefined once it has exited. */
  nextLine(): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined || this.#closed) return Promise.resolve(line);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  lastError(): string | undefined {
    return this.#stderr.trim().split('\n').pop() || undefined;
  }

  end(): void {
    this.#child.stdin.end();
  }
}
