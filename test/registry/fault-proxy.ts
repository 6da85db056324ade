/**
 * A fault-injecting loopback HTTP proxy in front of a test registry: it forwards every request,
 * rewrites absolute `Location` headers that point at the registry so they point at itself, and
 * at seeded rates answers 500 or 429 (`Retry-After: 0`) before forwarding, resets or truncates
 * the connection in the middle of a large request or response body, or stalls mid-response.
 *
 * API (kept stable for the transport tests):
 *   const proxy = await startFaultProxy(registry.url, { seed: 1, errorRate: 0.1, ... });
 *   proxy.url / proxy.host          — point the client here instead of at the registry
 *   proxy.set({ resetRate: 0 })     — change the rates between phases of a test
 *   proxy.requests                  — every request seen: method, kind, path, digest, bytes, fault
 *   proxy.count('PUT', 'upload')    — how many requests of a method and kind reached the proxy
 *   proxy.bytesSent('sha256:…')     — request-body bytes forwarded for uploads of one digest
 *   await proxy.stop()
 * Kinds: base (/v2/), upload-start (POST …/blobs/uploads/), upload (…/blobs/uploads/<id>),
 * blob (…/blobs/<digest>), manifest, tags, referrers, other.
 */
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type RequestKind =
  'base' | 'upload-start' | 'upload' | 'blob' | 'manifest' | 'tags' | 'referrers' | 'other';

export type Fault =
  'error' | 'too-many' | 'reset-request' | 'reset-response' | 'truncate' | 'stall';

export interface FaultOptions {
  /** Seed of the PRNG that decides which requests fail; the same seed gives the same faults. */
  seed?: number;
  /** Fraction (0..1) of requests answered 500 before they reach the registry. */
  errorRate?: number;
  /** Fraction answered 429 with `Retry-After: 0` before they reach the registry. */
  tooManyRate?: number;
  /**
   * Fraction of large bodies (≥ minBodyBytes) whose connection is reset (RST) halfway: a request
   * body (PATCH/PUT upload) or a response body (blob GET).
   */
  resetRate?: number;
  /** Fraction of large response bodies cut short halfway by a clean close (FIN). */
  truncateRate?: number;
  /** Fraction of responses that pause `stallMs` halfway through the body (or before headers). */
  stallRate?: number;
  /** milliseconds; default 2000 */
  stallMs?: number;
  /** bytes; bodies smaller than this are never reset or truncated. Default 64 KiB. */
  minBodyBytes?: number;
  /** At most this many faults in all (then the proxy only forwards). Default unlimited. */
  maxFaults?: number;
  /** Only requests for which this is true may get a fault. Default: all. */
  only?: (r: { method: string; kind: RequestKind; path: string }) => boolean;
}

export interface ProxiedRequest {
  method: string;
  kind: RequestKind;
  /** path and query as received */
  path: string;
  /** the `digest` query parameter of an upload's final PUT, or the digest of a blob path */
  digest?: string;
  /** request-body bytes forwarded to the registry */
  bytesIn: number;
  /** the registry's status, or the injected one */
  status?: number;
  fault?: Fault;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  readonly requests: readonly ProxiedRequest[];
  /** Requests of this method (and kind) seen so far. */
  count(method: string, kind?: RequestKind): number;
  /** Faults injected so far. */
  faults(): number;
  /** Request-body bytes forwarded in uploads that ended with `?digest=<digest>`… of one blob. */
  bytesSent(digest: string): number;
  /** Changes rates (merged into the current options). */
  set(options: Partial<FaultOptions>): void;
  stop: () => Promise<void>;
}

/** mulberry32: a small seeded PRNG, good enough to spread faults reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function requestKind(method: string, pathname: string): RequestKind {
  if (pathname === '/v2/' || pathname === '/v2') return 'base';
  if (/\/blobs\/uploads\/?$/.test(pathname)) return method === 'POST' ? 'upload-start' : 'other';
  if (/\/blobs\/uploads\/[^/]+$/.test(pathname)) return 'upload';
  if (/\/blobs\/[^/]+$/.test(pathname)) return 'blob';
  if (/\/manifests\/[^/]+$/.test(pathname)) return 'manifest';
  if (/\/tags\/list$/.test(pathname)) return 'tags';
  if (/\/referrers\/[^/]+$/.test(pathname)) return 'referrers';
  return 'other';
}

/** Starts the proxy on a free loopback port, forwarding to `target` (an `http://` URL). */
export async function startFaultProxy(
  target: string,
  initial: FaultOptions = {},
): Promise<FaultProxy> {
  const upstream = new URL(target);
  if (upstream.protocol !== 'http:') throw new Error('the fault proxy forwards to http:// only');
  let o: FaultOptions = { ...initial };
  const random = prng(o.seed ?? 1);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let injected = 0;
  let self = '';

  const roll = (rate: number | undefined): boolean => {
    const r = random(); // always draw, so one rate's change does not shift the others' faults
    if (rate === undefined || rate <= 0) return false;
    if (o.maxFaults !== undefined && injected >= o.maxFaults) return false;
    if (r >= rate) return false;
    injected++;
    return true;
  };

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const kind = requestKind(method, url.pathname);
    const record: ProxiedRequest = { method, kind, path: req.url ?? '/', bytesIn: 0 };
    const digest =
      url.searchParams.get('digest') ??
      (kind === 'blob' ? url.pathname.split('/').pop() : undefined);
    if (digest !== undefined) record.digest = digest;
    requests.push(record);
    const eligible = o.only === undefined || o.only({ method, kind, path: record.path });
    const minBody = o.minBodyBytes ?? 64 * 1024;
    const pick = {
      error: roll(eligible ? o.errorRate : 0),
      tooMany: roll(eligible ? o.tooManyRate : 0),
      reset: roll(eligible ? o.resetRate : 0),
      truncate: roll(eligible ? o.truncateRate : 0),
      stall: roll(eligible ? o.stallRate : 0),
    };
    if (pick.error || pick.tooMany) {
      record.fault = pick.error ? 'error' : 'too-many';
      record.status = pick.error ? 500 : 429;
      req.resume();
      const body = JSON.stringify({
        errors: [{ code: 'UNKNOWN', message: `injected ${record.fault} by the fault proxy` }],
      });
      res.writeHead(record.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...(pick.tooMany ? { 'retry-after': '0' } : {}),
      });
      res.end(body);
      return;
    }
    const requestLength = Number(req.headers['content-length'] ?? 0);
    const resetRequest = pick.reset && requestLength >= minBody;
    const headers = { ...req.headers, host: upstream.host };
    const up = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method,
      path: req.url,
      headers,
    });
    up.on('error', () => {
      if (!res.headersSent) res.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      record.bytesIn += chunk.length;
      if (resetRequest && record.bytesIn >= requestLength / 2) {
        record.fault = 'reset-request';
        up.destroy();
        req.socket.resetAndDestroy();
        return;
      }
      if (!up.write(chunk)) {
        req.pause();
        up.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      up.end();
    });
    up.on('response', (ur) => {
      record.status = ur.statusCode ?? 0;
      const out = { ...ur.headers };
      const location = out.location;
      if (typeof location === 'string' && location.startsWith(upstream.origin)) {
        out.location = self + location.slice(upstream.origin.length);
      }
      const length = Number(ur.headers['content-length'] ?? 0);
      const large = method === 'GET' && length >= minBody;
      const cut = large && (pick.reset || pick.truncate) ? Math.floor(length / 2) : undefined;
      const stall = pick.stall;
      void (async () => {
        if (stall && !large) {
          record.fault = 'stall';
          await sleep(o.stallMs ?? 2000);
        }
        res.writeHead(ur.statusCode ?? 502, out);
        let sent = 0;
        let stalled = !stall || !large;
        for await (const chunk of ur as AsyncIterable<Buffer>) {
          if (res.destroyed) break;
          let piece = chunk;
          if (cut !== undefined && sent + piece.length >= cut) {
            piece = piece.subarray(0, cut - sent);
            res.write(piece);
            record.fault = pick.reset ? 'reset-response' : 'truncate';
            ur.destroy();
            if (pick.reset) res.socket?.resetAndDestroy();
            else res.socket?.end();
            return;
          }
          if (!stalled && sent + piece.length >= length / 2) {
            stalled = true;
            record.fault = 'stall';
            await sleep(o.stallMs ?? 2000);
          }
          sent += piece.length;
          if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      })().catch(() => {
        res.destroy();
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    count: (method, kind) =>
      requests.filter((r) => r.method === method && (kind === undefined || r.kind === kind)).length,
    faults: () => injected,
    bytesSent: (digest) => {
      // An upload's PATCHes carry no digest; attribute each session's bytes by its final PUT.
      const sessions = new Map<string, number>();
      let total = 0;
      for (const r of requests) {
        if (r.kind === 'upload-start' && r.digest === digest) total += r.bytesIn;
        if (r.kind !== 'upload') continue;
        const session = r.path.split('?')[0] ?? '';
        sessions.set(session, (sessions.get(session) ?? 0) + r.bytesIn);
        if (r.method === 'PUT' && r.digest === digest) {
          total += sessions.get(session) ?? 0;
          sessions.set(session, 0);
        }
      }
      return total;
    },
    set: (options) => {
      o = { ...o, ...options };
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
