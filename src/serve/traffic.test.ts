import { describe, expect, it } from 'vitest';
import {
  TrafficConfigError,
  TrafficRouter,
  route,
  splitOver,
  trafficPolicy,
  type Random,
} from './traffic.js';
import { InferError } from './types.js';

/** A seeded PRNG (mulberry32) so statistical tests are reproducible. */
function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VERSIONS = ['v1', 'v2', 'v3'];

/** Pearson's chi-square of observed counts against expected shares (percent). */
function chiSquare(
  counts: Map<string, number>,
  weights: Record<string, number>,
  n: number,
): number {
  let chi = 0;
  for (const [version, weight] of Object.entries(weights)) {
    const expected = (n * weight) / 100;
    const observed = counts.get(version) ?? 0;
    chi += (observed - expected) ** 2 / expected;
  }
  return chi;
}

describe('weighted split', () => {
  it('sends each version its share of 10,000 requests (chi-square, p > 0.001)', () => {
    const weights = { v1: 70, v2: 20, v3: 10 };
    const policy = trafficPolicy('iris', { weights }, VERSIONS);
    const random = seeded(42);
    const counts = new Map<string, number>();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const { primary, reason } = route(policy, {}, random);
      expect(reason).toBe('weighted');
      counts.set(primary, (counts.get(primary) ?? 0) + 1);
    }
    // 2 degrees of freedom: the 0.999 quantile is 13.82.
    expect(chiSquare(counts, weights, n)).toBeLessThan(13.82);
    for (const [version, weight] of Object.entries(weights)) {
      const p = weight / 100;
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs((counts.get(version) ?? 0) - n * p)).toBeLessThan(3 * sigma);
    }
  });

  it('never routes to a version with weight 0', () => {
    const policy = trafficPolicy('iris', { weights: { v1: 100, v2: 0 } }, VERSIONS);
    const random = seeded(7);
    for (let i = 0; i < 2_000; i++) expect(route(policy, {}, random).primary).toBe('v1');
  });
});

describe('sticky assignment', () => {
  const config = { weights: { v1: 50, v2: 50 }, stickyHeader: 'x-user', stickyCookie: 'uid' };

  it('keeps one caller on one version, by header or by cookie', () => {
    const policy = trafficPolicy('iris', config, VERSIONS);
    const random = seeded(1);
    const seen = new Set<string>();
    for (let user = 0; user < 200; user++) {
      const first = route(policy, { 'x-user': `user-${user}` }, random);
      expect(first.reason).toBe('sticky');
      seen.add(first.primary);
      for (let i = 0; i < 20; i++) {
        expect(route(policy, { 'x-user': `user-${user}` }, random).primary).toBe(first.primary);
      }
      const byCookie = route(policy, { cookie: `theme=dark; uid=user-${user}` }, random);
      expect(byCookie.primary).toBe(first.primary);
    }
    // 200 users over a 50/50 split land on both sides.
    expect(seen).toEqual(new Set(['v1', 'v2']));
  });

  it('moves only the callers whose bucket changes hands when weights shift', () => {
    const before = trafficPolicy('iris', { ...config, weights: { v1: 90, v2: 10 } }, VERSIONS);
    const after = trafficPolicy('iris', { ...config, weights: { v1: 80, v2: 20 } }, VERSIONS);
    let moved = 0;
    for (let user = 0; user < 5_000; user++) {
      const headers = { 'x-user': `u${user}` };
      const a = route(before, headers).primary;
      const b = route(after, headers).primary;
      // Growing the candidate's share never takes a caller away from it.
      if (a === 'v2') expect(b).toBe('v2');
      if (a !== b) moved++;
    }
    // About 10% of callers move from v1 to v2; ±3σ for n = 5000, p = 0.1 is ±64.
    expect(Math.abs(moved - 500)).toBeLessThan(64);
  });
});

describe('pinning', () => {
  it('sends a request naming a version there, whatever the weights', () => {
    const policy = trafficPolicy('iris', { weights: { v1: 100 } }, VERSIONS);
    expect(route(policy, { 'x-model-version': 'v3' })).toEqual({ primary: 'v3', reason: 'pinned' });
    const custom = trafficPolicy('iris', { weights: { v1: 100 }, pinHeader: 'X-Pin' }, VERSIONS);
    expect(route(custom, { 'x-pin': 'v2' }).primary).toBe('v2');
  });

  it('answers not-found for a pin to a version that is not served', () => {
    const policy = trafficPolicy('iris', { weights: { v1: 100 } }, VERSIONS);
    const attempt = () => route(policy, { 'x-model-version': 'v9' });
    expect(attempt).toThrow(InferError);
    expect(attempt).toThrow(/model iris has no version v9; served versions: v1, v2, v3/);
  });
});

describe('shadow', () => {
  it('mirrors its percent of requests to the candidate and never to the primary itself', () => {
    const policy = trafficPolicy(
      'iris',
      { weights: { v1: 100 }, shadow: { version: 'v2', percent: 25 } },
      VERSIONS,
    );
    const random = seeded(99);
    const n = 10_000;
    let shadowed = 0;
    for (let i = 0; i < n; i++) {
      const r = route(policy, {}, random);
      expect(r.primary).toBe('v1');
      if (r.shadow !== undefined) {
        expect(r.shadow).toBe('v2');
        shadowed++;
      }
    }
    const sigma = Math.sqrt(n * 0.25 * 0.75);
    expect(Math.abs(shadowed - n * 0.25)).toBeLessThan(3 * sigma);
    expect(route(policy, { 'x-model-version': 'v2' }, () => 0).shadow).toBeUndefined();
  });
});

describe('versions that are not loaded', () => {
  const weights = { v1: 50, v2: 30, v3: 20 };

  it("gives an unloaded version's share to the loaded ones, in proportion", () => {
    const policy = trafficPolicy('iris', { weights }, VERSIONS);
    const random = seeded(11);
    const counts = new Map<string, number>();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const { primary } = route(policy, {}, random, ['v1', 'v3']);
      counts.set(primary, (counts.get(primary) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['v1', 'v3']);
    // 50:20 is 71.4% : 28.6%; 1 degree of freedom, the 0.999 quantile is 10.83.
    expect(chiSquare(counts, { v1: 500 / 7, v3: 200 / 7 }, n)).toBeLessThan(10.83);
    // With every weighted version loaded the policy is used as it is.
    expect(splitOver(policy, ['v3', 'v2', 'v1'])).toBe(policy);
  });

  it('keeps sticky callers of a loaded version where they were when another is unloaded', () => {
    const policy = trafficPolicy('iris', { weights, stickyHeader: 'x-user' }, VERSIONS);
    const moved = new Set<string>();
    for (let user = 0; user < 1_000; user++) {
      const headers = { 'x-user': `u${user}` };
      const before = route(policy, headers).primary;
      const after = route(policy, headers, Math.random, ['v1', 'v3']).primary;
      if (before === 'v2') moved.add(after);
      else expect(after).toBe(before);
    }
    // v2's callers (about 300) are spread over the versions still loaded.
    expect(moved).toEqual(new Set(['v1', 'v3']));
  });

  it('sends everything to the latest loaded version when no weighted one is loaded', () => {
    const policy = trafficPolicy('iris', { weights: { v2: 100 } }, VERSIONS);
    const random = seeded(5);
    for (let i = 0; i < 100; i++)
      expect(route(policy, {}, random, ['v1', 'v3']).primary).toBe('v3');
  });

  it('pins to a loaded version outside the policy, and 404s a pin to one that is neither', () => {
    const policy = trafficPolicy('iris', { weights: { v1: 100 } }, ['v1']);
    expect(route(policy, { 'x-model-version': 'v4' }, Math.random, ['v1', 'v4']).primary).toBe(
      'v4',
    );
    expect(() => route(policy, { 'x-model-version': 'v5' }, Math.random, ['v1', 'v4'])).toThrow(
      /model iris has no version v5; served versions: v1, v4/,
    );
  });

  it('mirrors nothing to a shadow version that is not loaded', () => {
    const policy = trafficPolicy(
      'iris',
      { weights: { v1: 100 }, shadow: { version: 'v2', percent: 100 } },
      VERSIONS,
    );
    expect(route(policy, {}, seeded(1), ['v1', 'v2']).shadow).toBe('v2');
    expect(route(policy, {}, seeded(1), ['v1']).shadow).toBeUndefined();
  });
});

describe('validation', () => {
  it.each([
    [{ weights: { v1: 90, v2: 5 } }, /weights sum to 95, not 100/],
    [{ weights: { v1: 90, v9: 10 } }, /unknown version v9; served versions: v1, v2, v3/],
    [{ weights: {} }, /no weights/],
    [{ weights: { v1: 110, v2: -10 } }, /weight of v2 is -10/],
    [
      { weights: { v1: 100 }, shadow: { version: 'v7', percent: 5 } },
      /shadow version v7 is not served/,
    ],
    [{ weights: { v1: 100 }, shadow: { version: 'v2', percent: 150 } }, /shadow percent is 150/],
  ])('rejects %j', (config, message) => {
    expect(() => trafficPolicy('iris', config, VERSIONS)).toThrow(TrafficConfigError);
    expect(() => trafficPolicy('iris', config, VERSIONS)).toThrow(message);
  });
});

describe('TrafficRouter', () => {
  it('applies a new policy to every request after the swap', () => {
    const router = new TrafficRouter(
      trafficPolicy('iris', { weights: { v1: 100 } }, VERSIONS),
      seeded(3),
    );
    for (let i = 0; i < 100; i++) expect(router.route({}).primary).toBe('v1');
    const old = router.policy;
    router.set(trafficPolicy('iris', { weights: { v2: 100 } }, VERSIONS));
    for (let i = 0; i < 100; i++) expect(router.route({}).primary).toBe('v2');
    // The old policy object is untouched: whoever still holds it sees the old split.
    expect(route(old, {}).primary).toBe('v1');
    expect(Object.isFrozen(old.config)).toBe(true);
    expect(() => {
      router.set(trafficPolicy('other', { weights: { v1: 100 } }, VERSIONS));
    }).toThrow(/Internal error/);
  });
});
