/**
 * Measuring a rollout's gates: a version's request counter and latency histogram read from the
 * workers' `/metrics`, turned into an error rate and a p99 over a window as the difference of
 * two scrapes (as Prometheus' `increase` and `histogram_quantile` would), and the optional
 * PromQL gate asked of a Prometheus server's HTTP API.
 */
import { CairnError } from '../core/errors.js';
import type { Measurement } from './gates.js';
import { parseExposition, parseFloatValue, type Sample } from './prom-text.js';

/** Metric names; the defaults are what `cairn serve` exposes. */
export interface MetricNames {
  /** counter labelled {model, version, protocol, code} */
  readonly requests: string;
  /** histogram in seconds labelled {model, version} */
  readonly duration: string;
}

export const DEFAULT_METRICS: MetricNames = {
  requests: 'cairn_inference_requests_total',
  duration: 'cairn_inference_request_duration_seconds',
};

/** One version's counters at one scrape. */
export interface VersionSnapshot {
  readonly requests: number;
  /** answers with a 5xx code */
  readonly errors: number;
  /** cumulative bucket counts by upper bound in seconds, ascending, ending at +Inf */
  readonly buckets: readonly (readonly [le: number, count: number])[];
}

/** Sums one model version's series (over protocols, codes, workers) out of parsed samples. */
export function snapshot(
  samples: readonly Sample[],
  model: string,
  version: string,
  names: MetricNames = DEFAULT_METRICS,
): VersionSnapshot {
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.labels.model !== model || s.labels.version !== version) continue;
    if (s.name === names.requests) {
      requests += s.value;
      if (s.labels.code?.startsWith('5') === true) errors += s.value;
    } else if (s.name === `${names.duration}_bucket` && s.labels.le !== undefined) {
      const le = parseFloatValue(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
  }
  return { requests, errors, buckets: [...buckets].sort((a, b) => a[0] - b[0]) };
}

/** Scrapes `url` (a worker's /metrics) and snapshots one version. */
export async function scrape(
  url: string,
  model: string,
  version: string,
  options: { names?: MetricNames; signal?: AbortSignal } = {},
): Promise<VersionSnapshot> {
  const text = await getText(url, options.signal);
  return snapshot(parseExposition(text, url), model, version, options.names);
}

/** A counter's increase; a smaller value means the worker restarted and counts from zero. */
const increase = (before: number, after: number) => (after >= before ? after - before : after);

/** What happened between two snapshots, as the rollout gates read it. */
export function measure(before: VersionSnapshot, after: VersionSnapshot): Measurement {
  const requests = increase(before.requests, after.requests);
  const errors = increase(before.errors, after.errors);
  const earlier = new Map(before.buckets);
  const window = after.buckets.map(([le, c]) => [le, increase(earlier.get(le) ?? 0, c)] as const);
  const p99 = histogramQuantile(0.99, window);
  return {
    requests,
    ...(requests > 0 ? { errorRate: (errors / requests) * 100 } : {}),
    ...(p99 === undefined ? {} : { p99Ms: p99 * 1000 }),
  };
}

/**
 * Baselines for "since the step started", which is what the rollout machine's measurements
 * mean: the first snapshot seen for a key (say `model@version`) and step start is the baseline,
 * later ones are measured against it. After an agent restart the baseline is retaken, so a step
 * waits for minRequests anew rather than trusting numbers it no longer has.
 */
export class StepWindows {
  readonly #baselines = new Map<string, { since: number; snapshot: VersionSnapshot }>();

  measure(key: string, stepStartedAt: number, current: VersionSnapshot): Measurement {
    const base = this.#baselines.get(key);
    if (base?.since !== stepStartedAt) {
      this.#baselines.set(key, { since: stepStartedAt, snapshot: current });
      return { requests: 0 };
    }
    return measure(base.snapshot, current);
  }

  forget(key: string): void {
    this.#baselines.delete(key);
  }
}

/** The manifest's PromQL with `{{version}}` replaced, as Flagger fills its templates. */
export const promqlFor = (query: string, version: string): string =>
  query.replaceAll('{{version}}', version);

/**
 * The q-quantile of a cumulative histogram by linear interpolation inside the bucket that holds
 * the rank, as Prometheus' histogram_quantile does: the first bucket starts at 0 (when its
 * bound is positive), and a rank in the +Inf bucket answers the highest finite bound.
 * Undefined for an empty histogram.
 */
export function histogramQuantile(
  q: number,
  buckets: readonly (readonly [le: number, count: number])[],
): number | undefined {
  const last = buckets.at(-1);
  if (last === undefined || last[0] !== Number.POSITIVE_INFINITY || last[1] <= 0) return undefined;
  const rank = q * last[1];
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [i, [le, count]] of buckets.entries()) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return buckets[i - 1]?.[0] ?? 0;
      if (i === 0 && le <= 0) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return undefined;
}

/**
 * Runs an instant PromQL query (`GET /api/v1/query`) and answers its one number: a scalar, or
 * a vector of exactly one sample. An empty vector answers undefined ("no values found").
 */
export async function queryPrometheus(
  server: string,
  query: string,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const url = new URL('api/v1/query', server.endsWith('/') ? server : `${server}/`);
  url.searchParams.set('query', query);
  const fail = (why: string) =>
    new CairnError('prometheus-query-failed', `${url.origin}: query ${query}: ${why}`, {
      hint: 'Check rollout.analysis.prometheus: the server URL and that the query returns one number.',
    });
  let body: unknown;
  try {
    body = JSON.parse(await getText(url.href, signal));
  } catch (error) {
    throw error instanceof CairnError ? error : fail(`not JSON (${(error as Error).message})`);
  }
  const response = body as {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  };
  if (response.status !== 'success') throw fail(response.error ?? 'status is not success');
  const { resultType, result } = response.data ?? {};
  if (resultType === 'scalar') return sampleValue(result, fail);
  if (resultType !== 'vector' || !Array.isArray(result)) {
    throw fail(`a ${resultType ?? 'missing'} result, expected a vector or a scalar`);
  }
  if (result.length === 0) return undefined;
  if (result.length > 1)
    throw fail(`${String(result.length)} series, expected one (aggregate with sum or avg)`);
  return sampleValue((result[0] as { value?: unknown }).value, fail);
}

function sampleValue(pair: unknown, fail: (why: string) => Error): number {
  if (!Array.isArray(pair) || typeof pair[1] !== 'string') throw fail('a sample without a value');
  return parseFloatValue(pair[1]);
}

async function getText(url: string, signal: AbortSignal | undefined): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ?? AbortSignal.timeout(10_000) });
  } catch (error) {
    // undici says "fetch failed" and keeps the reason (ECONNREFUSED…) in the cause
    const why = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    throw new CairnError('metrics-unreachable', `GET ${url}: ${(why as Error).message}`, {
      cause: error,
      hint: 'Is the server running and reachable from the agent?',
    });
  }
  const text = await res.text();
  if (!res.ok && !text.trimStart().startsWith('{')) {
    throw new CairnError('metrics-unreachable', `GET ${url}: HTTP ${String(res.status)}`);
  }
  return text;
}
