/**
 * The listening server and its shutdown: `drain` stops accepting connections, lets the
 * requests in flight finish (bounded by a timeout), closes every connection and then every
 * model runtime.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelRepository } from './repository.js';

export interface ServerOptions {
  listener: http.RequestListener;
  repo: ModelRepository;
  host: string;
  /** 0 picks a free port */
  port: number;
}

export interface DrainResult {
  /** false when the timeout cut requests short */
  drained: boolean;
  /** requests still running when the timeout struck */
  abandoned: number;
}

export interface RunningServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** requests being answered now */
  inFlight(): number;
  /** Stops accepting, waits up to `timeoutMs` for requests in flight, closes everything. */
  drain(timeoutMs: number): Promise<DrainResult>;
}

/** Starts listening; resolves once the port is bound. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  let active = 0;
  let draining = false;
  let wakeIdle: (() => void) | undefined;
  const server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    active++;
    if (draining) res.setHeader('connection', 'close');
    res.on('close', () => {
      active--;
      if (active === 0) wakeIdle?.();
    });
    o.listener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  let drainResult: Promise<DrainResult> | undefined;

  const drain = async (timeoutMs: number): Promise<DrainResult> => {
    draining = true;
    const closed = new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    server.closeIdleConnections();
    if (active > 0) {
      const idle = new Promise<void>((resolve) => (wakeIdle = resolve));
      const timer = new AbortController();
      await Promise.race([
        idle,
        sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined),
      ]);
      timer.abort();
    }
    const abandoned = active;
    server.closeAllConnections();
    await closed;
    await o.repo.close();
    return { drained: abandoned === 0, abandoned };
  };

  return {
    host: o.host,
    port,
    url: `http://${shownHost}:${port}`,
    inFlight: () => active,
    drain: (timeoutMs) => (drainResult ??= drain(timeoutMs)),
    [Symbol.asyncDispose]: async () => {
      await (drainResult ??= drain(0));
    },
  };
}
