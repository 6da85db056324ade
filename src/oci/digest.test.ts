import { describe, expect, it } from 'vitest';
import { nativeHelpers } from '../data/native.js';
import { sha256InPool, sha256Of } from './digest.js';

describe('sha256InPool', () => {
  it('agrees with sha256Of: nothing, a view into a larger buffer, several megabytes', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i += 4093) big[i] = i % 251;
    for (const bytes of [new Uint8Array(0), big.subarray(13, 70_000), big]) {
      expect(await sha256InPool(bytes)).toBe(sha256Of(bytes));
    }
    expect(await sha256InPool(new Uint8Array(0))).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('runs on the thread pool whenever the native addon is built (a stale build lacks it)', () => {
    const native = nativeHelpers();
    if (native !== undefined) expect(typeof native.sha256).toBe('function');
  });
});
