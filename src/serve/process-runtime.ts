/**
 * The `process` runtime: a user's command serving one model over OIP REST on `$PORT`, which
 * Cairn picks. Cairn supervises it (readiness by polling `/v2/health/ready`, restarts with
 * exponential backoff when it exits, SIGTERM then SIGKILL on close) and proxies inference to
 * it as OIP JSON over a keep-alive connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { modelSignature, requestBody, responseOutputs } from './process-json.js';
import type { InferRequest, ModelRuntime, Tensor, TensorSpec } from './types.js';
import { InferError } from './types.js';

export interface ProcessRuntimeOptions {
  /** shell command line; it must serve OIP REST on 127.0.0.1:$PORT */
  readonly command: string;
  /** the model's name in the child's `/v2/models/{name}` paths */
  readonly model: string;
  readonly cwd?: string;
  /** added to Cairn's own environment */
  readonly env?: Readonly<Record<string, string>>;
  /** how long the first start may take before startProcessRuntime fails, ms (default 60 s) */
  readonly startTimeoutMs?: number;
  /** readiness polling interval while not ready, ms (default 100) */
  readonly pollMs?: number;
  /** readiness polling interval once ready, ms (default 2 s); a failed check makes it unready */
  readonly healthMs?: number;
  /** first restart delay, doubled per consecutive failure up to `maxBackoffMs` (default 250) */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** how long close() waits after SIGTERM before SIGKILL, ms (default 10 s) */
  readonly drainMs?: number;
  /** supervision events, for the server's log */
  readonly onEvent?: (event: ProcessEvent) => void;
}

export type ProcessEvent =
  | { readonly type: 'process-started'; readonly pid: number; readonly port: number }
  | { readonly type: 'process-ready'; readonly pid: number }
  | { readonly type: 'process-unready'; readonly pid: number }
  | {
      readonly type: 'process-exited';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
    }
  | { readonly type: 'process-restart'; readonly delayMs: number };

/** Starts `options.command` and resolves once it is ready and has described its model. */
export async function startProcessRuntime(options: ProcessRuntimeOptions): Promise<ProcessRuntime> {
  const runtime = new ProcessRuntime(options);
  await runtime.start();
  return runtime;
}

export class ProcessRuntime implements ModelRuntime {
  platform = 'process';
  readonly abortable = true;
  inputs: readonly TensorSpec[] = [];
  outputs: readonly TensorSpec[] = [];
  readonly #options: ProcessRuntimeOptions;
  readonly #agent = new http.Agent({ keepAlive: true });
  #child: ChildProcess | undefined;
  #port = 0;
  #ready = false;
  #closing = false;
  #failures = 0;
  #restart: NodeJS.Timeout | undefined;
  /** the last output of the child, for error messages */
  #tail = '';

  constructor(options: ProcessRuntimeOptions) {
    this.#options = options;
  }

  /** the supervised process's id, while one runs */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  ready(): boolean {
    return this.#ready;
  }

  async start(): Promise<void> {
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 60_000);
    this.#spawn().catch((error: unknown) => (this.#tail += `\ncould not start: ${String(error)}`));
    while (!this.#ready) {
      if (Date.now() > deadline) {
        await this.close();
        throw new Error(
          `model ${this.#options.model}: \`${this.#options.command}\` was not ready on /v2/health/ready ` +
            `within ${this.#options.startTimeoutMs ?? 60_000} ms; its last output:\n${this.#tail || '(none)'}`,
        );
      }
      await sleep(this.#options.pollMs ?? 100);
    }
  }

  async infer(request: InferRequest, signal?: AbortSignal): Promise<readonly Tensor[]> {
    if (!this.#ready) {
      throw new InferError(
        'unavailable',
        `model ${this.#options.model}: its process is starting or restarting; retry shortly`,
      );
    }
    const path = `/v2/models/${encodeURIComponent(this.#options.model)}/infer`;
    const { status, body } = await this.#call('POST', path, requestBody(request), signal);
    if (status === 200) return responseOutputs(body);
    const message = (body as { error?: unknown } | undefined)?.error;
    const text = typeof message === 'string' ? message : `status ${status}`;
    if (status === 503)
      throw new InferError('unavailable', `model ${this.#options.model}: ${text}`);
    if (status >= 400 && status < 500) throw new InferError('bad-request', text);
    throw new InferError('internal', `model ${this.#options.model}: the process failed: ${text}`);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#ready = false;
    clearTimeout(this.#restart);
    const child = this.#child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, this.#options.drainMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    }
    this.#agent.destroy();
  }

  async #spawn(): Promise<void> {
    this.#port = await freePort();
    if (this.#closing) return;
    const child = spawn('/bin/sh', ['-c', `${WATCHDOG}\n${this.#options.command}`], {
      cwd: this.#options.cwd,
      env: {
        ...process.env,
        ...this.#options.env,
        PORT: String(this.#port),
        CAIRN_SERVE_PID: String(process.pid),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that signals reach whatever the shell started.
      detached: true,
    });
    this.#child = child;
    const keep = (chunk: Buffer) => (this.#tail = (this.#tail + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => keep(Buffer.from(`${error.message}\n`)));
    const pid = child.pid ?? -1;
    this.#options.onEvent?.({ type: 'process-started', pid, port: this.#port });
    child.once('exit', (code, signal) => {
      this.#ready = false;
      this.#options.onEvent?.({ type: 'process-exited', pid, code, signal });
      if (this.#closing) return;
      const delayMs = Math.min(
        (this.#options.backoffMs ?? 250) * 2 ** this.#failures,
        this.#options.maxBackoffMs ?? 30_000,
      );
      this.#failures++;
      this.#options.onEvent?.({ type: 'process-restart', delayMs });
      this.#restart = setTimeout(() => {
        this.#spawn().catch(
          (error: unknown) => (this.#tail += `\ncould not restart: ${String(error)}`),
        );
      }, delayMs);
    });
    await this.#watch(child);
  }

  /** Polls the child's readiness for as long as it runs: often until ready, then every `healthMs`. */
  async #watch(child: ChildProcess): Promise<void> {
    const current = () =>
      this.#child === child &&
      child.exitCode === null &&
      child.signalCode === null &&
      !this.#closing;
    while (current()) {
      const health = await this.#call('GET', '/v2/health/ready').catch(() => undefined);
      if (!current()) return;
      if (health?.status === 200 && !this.#ready) {
        const path = `/v2/models/${encodeURIComponent(this.#options.model)}`;
        const metadata = await this.#call('GET', path).catch(() => undefined);
        if (metadata?.status === 200 && current()) {
          const signature = modelSignature(metadata.body);
          this.platform = signature.platform;
          this.inputs = signature.inputs;
          this.outputs = signature.outputs;
          this.#failures = 0;
          this.#ready = true;
          this.#options.onEvent?.({ type: 'process-ready', pid: child.pid ?? -1 });
        }
      } else if (health?.status !== 200 && this.#ready) {
        this.#ready = false;
        this.#options.onEvent?.({ type: 'process-unready', pid: child.pid ?? -1 });
      }
      await sleep(this.#ready ? (this.#options.healthMs ?? 2_000) : (this.#options.pollMs ?? 100));
    }
  }

  #call(
    method: string,
    path: string,
    body?: string,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port: this.#port,
          method,
          path,
          agent: this.#agent,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          ...(signal === undefined ? {} : { signal }),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = { error: text.slice(0, 500) };
            }
            resolve({ status: response.statusCode ?? 0, body: parsed });
          });
        },
      );
      request.on('error', (error) => {
        reject(
          signal?.aborted === true
            ? new InferError('timeout', 'request abandoned by the caller', { cause: error })
            : new InferError(
                'unavailable',
                `model ${this.#options.model}: its process did not answer (${error.message})`,
                { cause: error },
              ),
        );
      });
      request.end(body);
    });
  }
}

/**
 * Runs first in the child's shell, in the background and in the child's process group: once
 * the server's process is gone (even SIGKILLed, when it cannot stop anything), it ends the
 * group, so a model process never outlives its server by more than a second. A normal stop
 * signals the group, the watchdog included.
 */
const WATCHDOG =
  '(while kill -0 "$CAIRN_SERVE_PID" 2>/dev/null; do sleep 1; done; kill -TERM 0) </dev/null >/dev/null 2>&1 &';

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A TCP port free on loopback right now (the child binds it moments later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('Internal error: no port from a listening socket'));
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
