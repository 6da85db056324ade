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
import { HTTP_STATUS, InferError } from './types.js';

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

function send(res: ServerResponse, reply: Reply): void {
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  let body = reply.body;
  if (body === undefined && reply.json !== undefined) {
    body = Buffer.from(JSON.stringify(reply.json));
    res.setHeader('content-type', 'application/json');
  }
  res.statusCode = reply.status;
  res.setHeader('content-length', body?.length ?? 0);
  res.end(body);
}

/** The request listener for a repository; extra routes plug in through `routes`. */
export function createApp(o: AppOptions): RequestListener {
  const routes = [...(o.routes ?? []), ...ROUTES];
  return (req, res) => {
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const ctx: RouteContext = {
      req,
      params: [],
      repo: o.repo,
      maxBody: o.maxBody,
      requestId,
      signal: aborter.signal,
    };
    const answer = async (): Promise<Reply> => {
      const found = match(routes, req.method ?? 'GET', pathname);
      if (found === undefined)
        throw new InferError('not-found', `no route for ${req.method ?? 'GET'} ${pathname}`);
      if (found === 'wrong-method')
        return {
          status: 405,
          json: { error: `${req.method ?? ''} is not allowed on ${pathname}` },
        };
      ctx.params = found.params;
      return found.route.handler(ctx);
    };
    answer()
      .catch((error: unknown): Reply => {
        const { status, message, expected } = failure(error);
        if (!expected) o.onError?.(error, req);
        // A body left unread (too large, or refused early) must not be drained: close instead.
        if (!req.complete) res.setHeader('connection', 'close');
        return { status, json: { error: message } };
      })
      .then((reply) => {
        if (ctx.answered !== undefined) {
          res.setHeader('x-model-name', ctx.answered.model);
          res.setHeader('x-model-version', ctx.answered.version);
          res.setHeader('x-model-digest', ctx.answered.digest);
        }
        if (!res.destroyed) send(res, reply);
      })
      .catch((error: unknown) => {
        o.onError?.(error, req);
        res.destroy();
      });
  };
}
