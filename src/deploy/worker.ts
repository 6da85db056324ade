/**
 * One environment's worker: a supervised `cairn serve --config serve.yaml --port 0 --json
 * --exit-with-stdin` child process. Its stdin is a pipe it watches, so the worker ends with the
 * agent however the agent ends. The supervisor reads the listening line, sends SIGHUP to reload
 * and waits for the reload's JSON line, and restarts a worker that dies, with backoff.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How to run `cairn` itself: `process.execPath` and the CLI entry the agent runs from. */
export interface CairnCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface WorkerOptions {
  readonly cairn: CairnCommand;
  readonly configFile: string;
  /** the worker's working folder (prediction logs, process runtimes) */
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** told each time a worker listens, with the model versions it loaded */
  readonly onListening?: (url: string, loaded: readonly LoadedVersion[]) => void;
  /** told when the worker exits unasked: a restart follows after the backoff */
  readonly onExit?: (why: string) => void;
  /** where the worker's stderr (its logs) is copied */
  readonly stderr?: NodeJS.WritableStream;
  /** ms before the first restart; doubles up to maxBackoffMs */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

export type ReloadOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

type Line = Record<string, unknown>;

export interface LoadedVersion {
  readonly name: string;
  readonly version: string;
}

export class Worker {
  readonly #o: WorkerOptions;
  #child: ChildProcess | undefined;
  #url: string | undefined;
  #starting: Promise<string> | undefined;
  #stopped = false;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #waiters: ((line: Line) => void)[] = [];
  #lastError: string | undefined;

  constructor(o: WorkerOptions) {
    this.#o = o;
  }

  /** The worker's base URL while it is up. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Why the last start failed or the worker last died. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starting, running, or waiting out the backoff before a restart. */
  get busy(): boolean {
    return this.#child !== undefined || this.#restartTimer !== undefined;
  }

  /** Starts the worker (once) and answers its URL; rejects when it exits before listening. */
  start(): Promise<string> {
    this.#stopped = false;
    if (this.#url !== undefined) return Promise.resolve(this.#url);
    this.#starting ??= this.#spawn().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** SIGHUP: re-read serve.yaml; answers whether the worker took it. */
  async reload(timeoutMs = 120_000): Promise<ReloadOutcome> {
    const child = this.#child;
    if (child === undefined || this.#url === undefined) {
      return { ok: false, reason: 'the worker is not running' };
    }
    const outcome = new Promise<ReloadOutcome>((resolve) => {
      const timer = setTimeout(() => {
        resolve({ ok: false, reason: `no answer to the reload in ${String(timeoutMs)} ms` });
      }, timeoutMs);
      this.#waiters.push((line) => {
        clearTimeout(timer);
        resolve(
          line.event === 'reloaded'
            ? { ok: true }
            : {
                ok: false,
                reason: typeof line.reason === 'string' ? line.reason : 'worker exited',
              },
        );
      });
    });
    child.kill('SIGHUP');
    return outcome;
  }

  /** Ends the worker (closing its stdin, then SIGTERM) and stops restarting it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    child.stdin?.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  #spawn(): Promise<string> {
    const { cairn, configFile } = this.#o;
    const args = [
      ...cairn.args,
      'serve',
      '--config',
      configFile,
      '--port',
      '0',
      '--json',
      '--exit-with-stdin',
      '--drain-timeout',
      '5s',
    ];
    const child = spawn(cairn.command, args, {
      cwd: this.#o.cwd,
      env: this.#o.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8192);
      // The worker's own logs (pino JSON lines) join the agent's.
      this.#o.stderr?.write(chunk);
    });
    // The agent may die first: a broken pipe is expected then.
    child.stdin.on('error', () => undefined);
    return new Promise<string>((resolve, reject) => {
      let listening = false;
      createInterface({ input: child.stdout }).on('line', (text) => {
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          return;
        }
        if (!listening && typeof line.url === 'string') {
          listening = true;
          this.#url = line.url;
          this.#failures = 0;
          this.#lastError = undefined;
          const models = Array.isArray(line.models) ? (line.models as LoadedVersion[]) : [];
          this.#o.onListening?.(line.url, models);
          resolve(line.url);
        } else if (line.event === 'reloaded' || line.event === 'reload-refused') {
          this.#waiters.shift()?.(line);
        }
      });
      child.once('exit', (code, signal) => {
        this.#url = undefined;
        this.#child = undefined;
        const why = `worker exited (${signal ?? `code ${String(code)}`}): ${lastErrorLine(stderr)}`;
        this.#lastError = why;
        for (const w of this.#waiters.splice(0)) w({ event: 'reload-refused', reason: why });
        if (!listening) reject(new Error(why));
        if (this.#stopped) return;
        this.#o.onExit?.(why);
        this.#scheduleRestart();
      });
    });
  }

  #scheduleRestart(): void {
    const base = this.#o.backoffMs ?? 500;
    const delay = Math.min(base * 2 ** this.#failures, this.#o.maxBackoffMs ?? 30_000);
    this.#failures++;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopped) return;
      this.start().catch(() => undefined);
    }, delay);
  }
}

/** The most telling line of a worker's stderr: its error message when it printed one. */
function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const error = lines.findLast((l) => /error/i.test(l));
  return (error ?? lines.at(-1) ?? 'no output').slice(0, 500);
}
