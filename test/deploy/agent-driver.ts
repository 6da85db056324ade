/**
 * Driving a real `cairn agent` in tests and benchmarks: start it from bin/cairn and wait for its
 * listening lines, signed push webhooks, OIP requests through its router, `cairn status --json`
 * as the agent contract shapes it, polling without sleeps, and its workers found in /proc.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sandbox, Spawned } from '../e2e/helpers.js';

/** The webhook secret every agent of these tests is started with. */
export const WEBHOOK_SECRET = 'e2e-webhook-secret';

// ---------------------------------------------------------------- the agent

export interface Agent {
  readonly process: Spawned;
  /** the router: `http://127.0.0.1:PORT` */
  readonly url: string;
  /** the webhook endpoint, when started with one */
  readonly webhook: string;
  readonly stateDir: string;
  /** SIGKILL to the agent alone (its workers must notice by themselves) */
  kill9(): void;
  /** SIGTERM, and the exit */
  stop(): Promise<void>;
}

export interface AgentOptions {
  readonly repo: string;
  readonly envs: readonly string[];
  readonly stateDir: string;
  readonly interval?: string;
  readonly extra?: readonly string[];
}

/** Starts `cairn agent` in `sb` and waits for its `listening on` and `webhook on` lines. */
export async function startAgent(sb: Sandbox, o: AgentOptions, timeoutMs = 60_000): Promise<Agent> {
  const args = [
    'agent',
    '--repo',
    o.repo,
    ...o.envs.flatMap((e) => ['--env', e]),
    '--port',
    '0',
    '--webhook-port',
    '0',
    '--interval',
    o.interval ?? '60s',
    '--state-dir',
    o.stateDir,
    ...(o.extra ?? []),
  ];
  // Each agent (and its workers) has a ModelKit store of its own below its state dir, so one
  // agent's pulls never serve another's (the registry-outage scenario depends on it).
  const p = sb.spawnCairn(args, {
    env: {
      CAIRN_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CAIRN_REGISTRY_PLAIN_HTTP: '1',
      CAIRN_HOME: path.join(o.stateDir, 'cairn-home'),
    },
  });
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  let webhook: string | undefined;
  const exited = { early: false };
  void p.exited.then(() => {
    exited.early = true;
  });
  while (Date.now() < deadline && !exited.early) {
    url ??= /^listening on (http:\/\/\S+)$/m.exec(p.stdout())?.[1];
    webhook ??= /^webhook on (http:\/\/\S+)$/m.exec(p.stdout())?.[1];
    if (url !== undefined && webhook !== undefined) break;
    await sleep(25);
  }
  if (url === undefined || webhook === undefined) {
    p.kill('SIGKILL');
    throw new Error(
      `cairn ${args.join(' ')} printed no listening/webhook lines\n--- stdout\n${p.stdout()}\n--- stderr\n${p.stderr()}`,
    );
  }
  return {
    process: p,
    url,
    webhook,
    stateDir: o.stateDir,
    kill9: () => {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    stop: async () => {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      await p.exited;
    },
  };
}

/** A GitHub-style push delivery; `signature` overrides the correct one. */
export async function pushHook(
  webhook: string,
  o: { ref?: string; signature?: string } = {},
): Promise<Response> {
  const body = JSON.stringify({ ref: o.ref ?? 'refs/heads/main', after: '0'.repeat(40) });
  const signature =
    o.signature ?? `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
  return fetch(webhook, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': signature,
    },
    body,
  });
}

// ---------------------------------------------------------------- requests and status

/** One row of the churn model's inputs, as OIP REST JSON. */
export const CHURN_REQUEST = {
  inputs: [
    { name: 'numeric', datatype: 'FP32', shape: [1, 4], data: [3, 95.5, 4, 12.5] },
    { name: 'category', datatype: 'BYTES', shape: [1, 1], data: ['month-to-month'] },
  ],
};

export const SCORER_REQUEST = {
  inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [1.5, -2] }],
};

export interface Answer {
  readonly status: number;
  /** the serving version's label (`model_version`, else the x-model-version header) */
  readonly version: string | undefined;
  readonly body: unknown;
}

/** One inference through the agent's router; network errors are status 0. */
export async function infer(routerUrl: string, model: string, request: unknown): Promise<Answer> {
  try {
    const res = await fetch(`${routerUrl}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // not JSON: keep the text
    }
    const fromBody =
      typeof body === 'object' && body !== null && 'model_version' in body
        ? String(body.model_version)
        : undefined;
    return {
      status: res.status,
      version: fromBody ?? res.headers.get('x-model-version') ?? undefined,
      body,
    };
  } catch {
    return { status: 0, version: undefined, body: undefined };
  }
}

/** The body of a GET (for /metrics). */
export async function httpText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** `cairn status --env ENV --json`, per the agent contract. */
export interface Status {
  readonly environment: string;
  readonly desired?: { readonly commit?: string };
  readonly live?: { readonly commit?: string };
  readonly sync: 'Synced' | 'OutOfSync';
  readonly health: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
  readonly reason?: string;
  readonly models: Record<
    string,
    {
      readonly stable?: { readonly digest: string };
      readonly candidate?: { readonly digest: string };
      readonly step?: number;
      readonly weights: Record<string, number>;
      readonly analysis: readonly unknown[];
    }
  >;
  readonly history: readonly unknown[];
}

export async function status(sb: Sandbox, env: string, stateDir: string): Promise<Status> {
  const r = await sb.cairn(['status', '--env', env, '--state-dir', stateDir, '--json']);
  if (r.code !== 0) throw new Error(`cairn status failed (${String(r.code)}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as Status;
}

/** Polls `probe` until it returns a value (not undefined), or fails with the last `describe`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  describe: () => Promise<string> = () => Promise.resolve(''),
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${String(timeoutMs)} ms waiting for ${what}\n${await describe()}`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

/** PIDs of live `cairn serve` workers whose config lies below `stateDir`. */
export function workerPids(stateDir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    const serve = args.includes('serve');
    const config = args[args.indexOf('--config') + 1];
    if (serve && config !== undefined && config.startsWith(path.resolve(stateDir))) {
      // A zombie has no cmdline, so anything found here is alive or about to be reaped.
      pids.push(Number(entry));
    }
  }
  return pids;
}

/**
 * PIDs of live processes whose working folder lies below `stateDir` (the `process` runtime's
 * model servers and whatever runs beside them in their worker's folder), other than workers;
 * with `program`, only those running it (their argv[0]).
 */
export function modelProcessPids(stateDir: string, program?: string): number[] {
  const root = path.resolve(stateDir);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, '');
    } catch {
      continue;
    }
    const cmdline = (() => {
      try {
        return fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (program !== undefined && cmdline.split('\0')[0] !== program) continue;
    if (cwd.startsWith(`${root}/`) && workerPids(stateDir).every((w) => String(w) !== entry)) {
      pids.push(Number(entry));
    }
  }
  return pids;
}
