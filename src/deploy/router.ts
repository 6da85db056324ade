/**
 * The agent's front door: one node:http server on `--port` that proxies the Open Inference
 * Protocol requests of each declared model (`/v2/models/{m}…`, `/v1/models/{m}…`) to the worker
 * that owns it, over keep-alive connections, headers (x-request-id, x-model-version…) passed
 * through both ways. Anything else a worker serves — its admin and repository routes, models
 * git does not declare — is never reachable from here. The agent's own `/metrics` and
 * `/healthz` are answered here too.
 */
import http from 'node:http';

/** Where a model's requests go now; undefined when no worker is ready for it yet. */
export interface RouteTable {
  /** the worker URL for `model`, `null` when declared but not ready, undefined when undeclared */
  target(model: string): string | null | undefined;
  /** every declared model is ready */
  ready(): boolean;
}

export interface RouterOptions {
  readonly host: string;
  readonly port: number;
  readonly table: RouteTable;
  /** extra GET routes answered by the agent itself (`/metrics`, `/healthz`) */
  readonly local: Readonly<
    Record<string, () => Promise<{ status: number; type: string; body: string }>>
  >;
}

export interface RunningRouter {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/|$)|^\/v1\/models\/([^/:]+)(?::predict)?$/;

/** The model a request path addresses, or undefined for anything else. */
export function modelOfPath(pathname: string): string | undefined {
  const m = MODEL_PATH.exec(pathname);
  const raw = m?.[1] ?? m?.[2];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

function reply(res: http.ServerResponse, status: number, error: string): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startRouter(o: RouterOptions): Promise<RunningRouter> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const local = req.method === 'GET' ? o.local[url.pathname] : undefined;
    if (local !== undefined) {
      local().then(
        (r) => {
          res.writeHead(r.status, { 'content-type': r.type });
          res.end(r.body);
        },
        (error: unknown) => {
          reply(res, 500, error instanceof Error ? error.message : String(error));
        },
      );
      return;
    }
    if (url.pathname === '/v2/health/live' || url.pathname === '/v2/health/ready') {
      const ok = url.pathname.endsWith('live') || o.table.ready();
      res.writeHead(ok ? 200 : 503).end();
      return;
    }
    const model = modelOfPath(url.pathname);
    const target = model === undefined ? undefined : o.table.target(model);
    if (model === undefined || target === undefined) {
      req.resume();
      reply(
        res,
        404,
        model === undefined ? `no route ${url.pathname}` : `model ${model} is not declared`,
      );
      return;
    }
    if (target === null) {
      req.resume();
      res.setHeader('retry-after', '1');
      reply(res, 503, `model ${model} has no ready worker yet`);
      return;
    }
    const upstream = new URL(target);
    const proxied = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: forwardable(req.headers),
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
        answer.pipe(res);
      },
    );
    proxied.on('error', (error) => {
      if (res.headersSent) res.destroy(error);
      else reply(res, 502, `the worker for model ${model} did not answer: ${error.message}`);
    });
    req.pipe(proxied);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${String(port)}`,
    host: o.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
