/**
 * Routes `cairn serve` adds besides OIP: `GET /metrics` (Prometheus text) and the local admin
 * route `/v2/admin/models/{name}/traffic` — PUT swaps a model's traffic weights between two
 * requests, GET reads the live ones (the agent's drift check) — only for loopback callers.
 */
import { readBody } from './http-body.js';
import type { ServingMetrics } from './metrics.js';
import type { ModelRepository } from './repository.js';
import type { Route, RouteContext } from './routes.js';
import { TrafficConfigError, TrafficRouter, trafficPolicy } from './traffic.js';
import { InferError } from './types.js';

/** `GET /metrics` from `metrics`' registry. */
export function metricsRoute(metrics: ServingMetrics): Route {
  return {
    method: 'GET',
    pattern: /^\/metrics$/,
    handler: async () => ({
      status: 200,
      body: Buffer.from(await metrics.text()),
      headers: { 'content-type': metrics.contentType },
    }),
  };
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Replaces a model's weights (keeping its sticky, pin and shadow settings); throws on bad ones. */
export function setWeights(repo: ModelRepository, model: string, weights: unknown): TrafficRouter {
  if (
    typeof weights !== 'object' ||
    weights === null ||
    Array.isArray(weights) ||
    !Object.values(weights).every((w) => typeof w === 'number')
  ) {
    throw new InferError(
      'bad-request',
      'the body must be {"weights": {"VERSION": PERCENT, ...}} with numbers that add up to 100',
    );
  }
  const versions = repo.versions(model).map((v) => v.version);
  const router = repo.traffic(model);
  const config = { ...(router?.policy.config ?? {}), weights: weights as Record<string, number> };
  let policy;
  try {
    policy = trafficPolicy(model, config, versions);
  } catch (error) {
    if (error instanceof TrafficConfigError) throw new InferError('bad-request', error.message);
    throw error;
  }
  if (router !== undefined) {
    router.set(policy);
    return router;
  }
  const fresh = new TrafficRouter(policy);
  repo.setTraffic(fresh);
  return fresh;
}

async function putTraffic(c: RouteContext) {
  if (!isLoopback(c.req.socket.remoteAddress)) {
    return { status: 403, json: { error: 'the admin routes answer loopback callers only' } };
  }
  const model = c.params[0] ?? '';
  const text = (await readBody(c.req, c.maxBody)).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new InferError('bad-request', `the body is not valid JSON (${(error as Error).message})`);
  }
  const weights = (doc as { weights?: unknown } | null)?.weights;
  const router = setWeights(c.repo, model, weights);
  return { status: 200, json: { model, weights: router.policy.config.weights } };
}

function getTraffic(c: RouteContext) {
  if (!isLoopback(c.req.socket.remoteAddress)) {
    return { status: 403, json: { error: 'the admin routes answer loopback callers only' } };
  }
  const model = c.params[0] ?? '';
  const versions = c.repo.versions(model).map((v) => v.version);
  if (versions.length === 0) throw new InferError('not-found', `model ${model} is not served`);
  const weights = c.repo.traffic(model)?.policy.config.weights;
  // Without a policy the latest loaded version answers everything.
  return { status: 200, json: { model, weights: weights ?? { [versions.at(-1) ?? '']: 100 } } };
}

const TRAFFIC = /^\/v2\/admin\/models\/([^/]+)\/traffic$/;

export const ADMIN_ROUTES: readonly Route[] = [
  { method: 'PUT', pattern: TRAFFIC, handler: putTraffic },
  { method: 'GET', pattern: TRAFFIC, handler: getTraffic },
];
