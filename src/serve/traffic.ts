/**
 * Per-model traffic routing: which served version answers a request (weighted split, sticky
 * assignment by header or cookie, an explicit pin) and which one, if any, gets a mirrored copy.
 * Pure: policies are immutable values, randomness is injected, and a router swaps whole
 * policies so a weight change is atomic for every request that follows.
 */
import { createHash } from 'node:crypto';
import { InferError } from './types.js';

/** How a model's traffic is split, as the user configures it. */
export interface TrafficConfig {
  /** version → percent of traffic; every version named must be served; sums to 100 */
  readonly weights: Readonly<Record<string, number>>;
  /** request header whose value keeps one caller on one version (lower-case name) */
  readonly stickyHeader?: string;
  /** cookie whose value keeps one caller on one version (used when the header is absent) */
  readonly stickyCookie?: string;
  /** request header naming the version to use, bypassing the split (default `x-model-version`, the header responses name the answering version in) */
  readonly pinHeader?: string;
  /** mirror `percent` of requests to `version`; its answers are discarded by the caller */
  readonly shadow?: { readonly version: string; readonly percent: number };
}

/** Where one request goes. */
export interface Route {
  readonly primary: string;
  /** a version that should also receive a copy of this request */
  readonly shadow?: string;
  readonly reason: 'pinned' | 'sticky' | 'weighted';
}

/** Request headers as node:http presents them (names lower-case). */
export type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** A problem in a traffic configuration, with what is wrong and what to do. */
export class TrafficConfigError extends Error {
  override readonly name = 'TrafficConfigError';
}

/** Resolution of the sticky hash: buckets per 100 percent. */
const BUCKETS = 1_000_000;

/** A validated, immutable routing policy for one model. */
/** A version and the cumulative upper bound of its buckets. */
interface Range {
  version: string;
  upTo: number;
}

export interface TrafficPolicy {
  readonly model: string;
  readonly config: TrafficConfig;
  /** versions with weight > 0 and their cumulative upper bounds in buckets, in config order */
  readonly ranges: readonly Readonly<Range>[];
  readonly versions: ReadonlySet<string>;
}

/** Validates `config` against the served `versions` of `model`; throws TrafficConfigError. */
export function trafficPolicy(
  model: string,
  config: TrafficConfig,
  versions: readonly string[],
): TrafficPolicy {
  const served = new Set(versions);
  const known = versions.join(', ') || '(none)';
  const entries = Object.entries(config.weights);
  if (entries.length === 0) {
    throw new TrafficConfigError(
      `traffic for model ${model}: no weights; give at least one version 100`,
    );
  }
  let total = 0;
  for (const [version, weight] of entries) {
    if (!served.has(version)) {
      throw new TrafficConfigError(
        `traffic for model ${model}: weight for unknown version ${version}; served versions: ${known}`,
      );
    }
    if (!Number.isFinite(weight) || weight < 0) {
      throw new TrafficConfigError(
        `traffic for model ${model}: weight of ${version} is ${weight}; use a number from 0 to 100`,
      );
    }
    total += weight;
  }
  if (Math.abs(total - 100) > 1e-9) {
    throw new TrafficConfigError(
      `traffic for model ${model}: weights sum to ${total}, not 100; adjust them so they add up to 100`,
    );
  }
  if (config.shadow !== undefined) {
    const { version, percent } = config.shadow;
    if (!served.has(version)) {
      throw new TrafficConfigError(
        `traffic for model ${model}: shadow version ${version} is not served; served versions: ${known}`,
      );
    }
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new TrafficConfigError(
        `traffic for model ${model}: shadow percent is ${percent}; use a number from 0 to 100`,
      );
    }
  }
  const ranges = rangesOf(entries);
  return Object.freeze({
    model,
    config: Object.freeze({ ...config }),
    ranges: Object.freeze(ranges.map((r) => Object.freeze(r))),
    versions: served,
  });
}

/**
 * Decides where one request goes under `policy`. `loaded`, when given, lists the versions that
 * can answer now: the split is then `splitOver` them, a pin may also name a loaded version the
 * policy does not weigh, and no copy goes to a shadow that is not loaded. Throws
 * InferError('not-found') for a pin to a version neither the policy nor `loaded` knows.
 */
export function route(
  policy: TrafficPolicy,
  headers: Headers,
  random: Random = Math.random,
  loaded?: readonly string[],
): Route {
  const shadowOf = (primary: string): Route['shadow'] => {
    const shadow = policy.config.shadow;
    if (shadow === undefined || shadow.version === primary) return undefined;
    if (loaded !== undefined && !loaded.includes(shadow.version)) return undefined;
    return random() * 100 < shadow.percent ? shadow.version : undefined;
  };
  const withShadow = (primary: string, reason: Route['reason']): Route => {
    const shadow = shadowOf(primary);
    return shadow === undefined ? { primary, reason } : { primary, shadow, reason };
  };

  const pinned = header(headers, policy.config.pinHeader ?? 'x-model-version');
  if (pinned !== undefined) {
    if (!policy.versions.has(pinned) && loaded?.includes(pinned) !== true) {
      throw new InferError(
        'not-found',
        `model ${policy.model} has no version ${pinned}; served versions: ${(loaded ?? [...policy.versions]).join(', ')}`,
      );
    }
    return withShadow(pinned, 'pinned');
  }
  const split = loaded === undefined ? policy : splitOver(policy, loaded);
  const key = stickyKey(policy.config, headers);
  if (key !== undefined) return withShadow(pick(split, bucketOf(key)), 'sticky');
  return withShadow(pick(split, Math.floor(random() * BUCKETS)), 'weighted');
}

/**
 * The policy with its split over the `loaded` versions only (an unloaded version's share goes to
 * the loaded ones in proportion to their weights); the policy itself when every weighted version
 * is loaded, and the last of `loaded` alone when none is (as for a model without a policy).
 * `loaded` is not empty.
 */
export function splitOver(policy: TrafficPolicy, loaded: readonly string[]): TrafficPolicy {
  if (policy.ranges.every((r) => loaded.includes(r.version))) return policy;
  const ranges = rangesOf(
    Object.entries(policy.config.weights).filter(([version]) => loaded.includes(version)),
  );
  if (ranges.length === 0) ranges.push({ version: loaded.at(-1) ?? '', upTo: BUCKETS });
  return { ...policy, ranges };
}

/**
 * The buckets each version takes, in order, in proportion to its share of the weights' sum;
 * versions of weight 0 take none. Rounding never leaves the last bucket unassigned.
 */
function rangesOf(weights: readonly (readonly [string, number])[]): Range[] {
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  const ranges: Range[] = [];
  let cumulative = 0;
  for (const [version, weight] of weights) {
    if (weight === 0) continue;
    cumulative += weight;
    ranges.push({ version, upTo: Math.round((cumulative / total) * BUCKETS) });
  }
  const last = ranges.at(-1);
  if (last !== undefined) last.upTo = BUCKETS;
  return ranges;
}

/** Holds a model's current policy; `set` replaces it whole, so readers never see a mix. */
export class TrafficRouter {
  #policy: TrafficPolicy;
  readonly #random: Random;

  constructor(policy: TrafficPolicy, random: Random = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  get policy(): TrafficPolicy {
    return this.#policy;
  }

  set(policy: TrafficPolicy): void {
    if (policy.model !== this.#policy.model) {
      throw new Error(
        `Internal error: policy for ${policy.model} given to router of ${this.#policy.model}`,
      );
    }
    this.#policy = policy;
  }

  /** `route` under the current policy; `loaded`: the versions that can answer now. */
  route(headers: Headers, loaded?: readonly string[]): Route {
    return route(this.#policy, headers, this.#random, loaded);
  }
}

function pick(policy: TrafficPolicy, bucket: number): string {
  for (const { version, upTo } of policy.ranges) if (bucket < upTo) return version;
  throw new Error(`Internal error: bucket ${bucket} outside the ranges of ${policy.model}`);
}

/** A stable bucket in [0, BUCKETS) for a sticky key. */
function bucketOf(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % BUCKETS;
}

function stickyKey(config: TrafficConfig, headers: Headers): string | undefined {
  if (config.stickyHeader !== undefined) {
    const value = header(headers, config.stickyHeader);
    if (value !== undefined) return value;
  }
  if (config.stickyCookie !== undefined) return cookie(headers, config.stickyCookie);
  return undefined;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const first = typeof value === 'string' ? value : value?.[0];
  const trimmed = first?.trim();
  return trimmed === '' ? undefined : trimmed;
}

function cookie(headers: Headers, name: string): string | undefined {
  const raw = headers.cookie;
  const lines = typeof raw === 'string' ? [raw] : (raw ?? []);
  for (const line of lines) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) {
        const value = pair.slice(eq + 1).trim();
        if (value !== '') return value;
      }
    }
  }
  return undefined;
}
