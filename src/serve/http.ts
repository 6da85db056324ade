/**
 * The HTTP app: a node:http request listener that matches a route, sets the headers every
 * response carries (`x-request-id`, and `x-model-name`/`x-model-version`/`x-model-digest` once a
 * model version answers) and is the one place errors become OIP's `{"error": "..."}` bodies.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { CairnError } from '../core/errors.js';
import type { ModelRepository } from './repository.js';
import { ROUTES, type Reply, type Route, type RouteContext } from './routes.js';
import { HTTP_STATUS, InferError, type ServedVersion } from './types.js';

export interface AppOptions {
  repo: ModelRepository;
  /** largest request body accepted, bytes */
  maxBody: number;
  /** routes tried before the built-in ones (metrics, extensions) */
  routes?: readonly Route[];
  /** told about failures that are not the client's fault (a 5xx) */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

function match(
  routes: readonly Route[],
  method: string,
  pathname: string,
): { route: Route; params: (string | undefined)[] } | 'wrong-method' | undefined {
  let methodMismatch = false;
  for (const route of routes) {
    const m = route.pattern.exec(pathname);
    if (m === null) continue;
    if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) {
      methodMismatch = true;
      continue;
    }
    try {
      return {
        route,
        params: (m.slice(1) as (string | undefined)[]).map((p) =>
          p === undefined ? undefined : decodeURIComponent(p),
        ),
      };
    } catch {
      throw new InferError('bad-request', `the path ${pathname} is not valid percent-encoding`);
    }
  }
  return methodMismatch ? 'wrong-method' : undefined;
}

/** The status and message a failure is answered with; anything unexpected is a bare 500. */
function failure(error: unknown): { status: number; message: string; expected: boolean } {
  if (error instanceof InferError)
    return {
      status: HTTP_STATUS[error.reason],
      message: error.message,
      expected: error.reason !== 'internal',
    };
  // A source or model that cannot be loaded (repository load): the caller's input.
  if (error instanceof CairnError) return { status: 400, message: error.message, expected: true };
  return { status: 500, message: 'internal error', expected: false };
}

/**
 * One request's context. Its AbortSignal is made only when a runtime asks for one (a batch wait
 * or a proxied call can stop early; an in-process run cannot): an AbortController and a `close`
 * listener per request were a few percent of a small model's request.
 */
class Context implements RouteContext {
  readonly req: IncomingMessage;
  readonly #res: ServerResponse;
  params: readonly (string | undefined)[] = [];
  readonly repo: ModelRepository;
  readonly maxBody: number;
  readonly requestId: string;
  answered?: ServedVersion;
  #aborter: AbortController | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, o: AppOptions, requestId: string) {
    this.req = req;
    this.#res = res;
    this.repo = o.repo;
    this.maxBody = o.maxBody;
    this.requestId = requestId;
  }

  get signal(): AbortSignal {
    if (this.#aborter === undefined) {
      const aborter = new AbortController();
      this.#aborter = aborter;
      const res = this.#res;
      if (res.destroyed && !res.writableFinished) aborter.abort();
      else
        res.once('close', () => {
          if (!res.writableFinished) aborter.abort();
        });
    }
    return this.#aborter.signal;
  }
}

/**
 * Writes the reply with every header in one `writeHead` (a flat list skips node:http's
 * per-`setHeader` bookkeeping), the body as one chunk after them.
 */
function send(res: ServerResponse, ctx: Context, reply: Reply, close: boolean): void {
  const headers: string[] = ['x-request-id', ctx.requestId];
  const answered = ctx.answered;
  if (answered !== undefined) {
    headers.push(
      'x-model-name',
      answered.model,
      'x-model-version',
      answered.version,
      'x-model-digest',
      answered.digest,
    );
  }
  if (reply.headers !== undefined) {
    for (const key in reply.headers) headers.push(key, reply.headers[key] as string);
  }
  let body = reply.body;
  if (body === undefined && reply.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers.push('content-type', 'application/json');
  }
  if (close) headers.push('connection', 'close');
  const length =
    body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  headers.push('content-length', String(length));
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** The route's reply, or the failure's `{"error": ...}` reply; `close` when the body was left unread. */
async function answer(
  routes: readonly Route[],
  ctx: Context,
  o: AppOptions,
): Promise<{ reply: Reply; close: boolean }> {
  const { req } = ctx;
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const pathname = query < 0 ? url : url.slice(0, query);
  try {
    const found = match(routes, method, pathname);
    if (found === undefined)
      throw new InferError('not-found', `no route for ${method} ${pathname}`);
    if (found === 'wrong-method')
      return {
        reply: {
          status: 405,
          json: { error: `${req.method ?? ''} is not allowed on ${pathname}` },
        },
        close: false,
      };
    ctx.params = found.params;
    return { reply: await found.route.handler(ctx), close: false };
  } catch (error) {
    const { status, message, expected } = failure(error);
    if (!expected) o.onError?.(error, req);
    // A body left unread (too large, or refused early) must not be drained: close instead.
    return { reply: { status, json: { error: message } }, close: !req.complete };
  }
}

/** The request listener for a repository; extra routes plug in through `routes`. */
export function createApp(o: AppOptions): RequestListener {
  const routes = [...(o.routes ?? []), ...ROUTES];
  return (req, res) => {
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    const ctx = new Context(req, res, o, requestId);
    answer(routes, ctx, o)
      .then(({ reply, close }) => {
        if (!res.destroyed) send(res, ctx, reply, close);
      })
      .catch((error: unknown) => {
        o.onError?.(error, req);
        res.destroy();
      });
  };
}
