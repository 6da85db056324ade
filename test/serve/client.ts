/**
 * A served set of models on port 0 in this process, and a small HTTP client for it that keeps
 * status, headers and raw bytes (fetch would hide framing details the tests care about).
 */
import http from 'node:http';
import { serve, type ServeHandle } from '../../src/commands/serve.js';
import type { CommandContext } from '../../src/commands/context.js';
import {
  describeRun,
  waitFor,
  type RunOptions,
  type Sandbox,
  type Spawned,
} from '../e2e/helpers.js';

export const ctx = (cwd: string, env: NodeJS.ProcessEnv = process.env): CommandContext => ({
  cwd,
  env,
  sink: () => undefined,
});

export async function serving(
  sources: readonly string[],
  o: { maxBody?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ServeHandle> {
  return serve(ctx(o.cwd ?? process.cwd(), o.env), {
    sources,
    host: '127.0.0.1',
    port: 0,
    maxBody: o.maxBody ?? 8 * 1024 * 1024,
    threads: 1,
  });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** the body parsed as JSON (undefined when empty or not JSON) */
  json: unknown;
}

/** One request; `body` may be a Buffer, a string, or a value sent as JSON. */
export function call(
  server: { port: number },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return send(server, method, path, payloadOf(body), headers);
}

/**
 * A POST whose body's first bytes go at once and the rest `restAfterMs` later: the server has
 * the request in flight (routed, counted) from its first byte until it answers.
 */
export function callInFlight(
  server: { port: number },
  path: string,
  body: unknown,
  restAfterMs: number,
): Promise<Answer> {
  return send(server, 'POST', path, payloadOf(body), {}, restAfterMs);
}

function payloadOf(body: unknown): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

function send(
  server: { port: number },
  method: string,
  path: string,
  payload: Buffer | undefined,
  headers: Record<string, string>,
  restAfterMs?: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        headers: {
          ...(payload === undefined ? {} : { 'content-length': payload.length }),
          ...headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw, json });
        });
      },
    );
    req.on('error', reject);
    if (restAfterMs === undefined || payload === undefined) req.end(payload);
    else {
      req.write(payload.subarray(0, 8));
      setTimeout(() => req.end(payload.subarray(8)), restAfterMs);
    }
  });
}

export const infer = (
  server: { port: number },
  model: string,
  body: unknown,
  headers?: Record<string, string>,
): Promise<Answer> => call(server, 'POST', `/v2/models/${model}/infer`, body, headers);

/** The `outputs` of an OIP JSON response, by name. */
export function outputsOf(
  a: Answer,
): Record<string, { datatype: string; shape: number[]; data: unknown[] }> {
  const doc = a.json as {
    outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
  };
  return Object.fromEntries(doc.outputs.map((o) => [o.name, o]));
}

/** Starts `cairn serve --port 0 ...args` and waits for its first stdout line. */
export async function startServe(
  sandbox: Sandbox,
  args: string[],
  options?: RunOptions,
): Promise<{ child: Spawned; line: string }> {
  const child = sandbox.spawnCairn(['serve', '--port', '0', ...args], options);
  const line = await waitFor(`the listening line of cairn serve ${args.join(' ')}`, async () => {
    const out = child.stdout();
    if (out.includes('\n')) return out.split('\n')[0];
    const exited = await Promise.race([
      child.exited,
      new Promise<undefined>((r) =>
        setTimeout(() => {
          r(undefined);
        }, 20),
      ),
    ]);
    if (exited !== undefined) throw new Error(`serve exited early: ${describeRun(args, exited)}`);
    return undefined;
  });
  return { child, line };
}
