import { describe, expect, it } from 'vitest';
import { TransportError, isTransportFailure } from './errors.js';
import { DEFAULT_RETRY, backoffMs, transientStatus } from './retry.js';

describe('registry retries', () => {
  it('back off exponentially with jitter, capped', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const cap = Math.min(DEFAULT_RETRY.maxMs, DEFAULT_RETRY.baseMs * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const ms = backoffMs(attempt, DEFAULT_RETRY);
        expect(ms).toBeGreaterThanOrEqual(cap / 2);
        expect(ms).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('a Retry-After in seconds or as an HTTP date wins, within a bound', () => {
    expect(backoffMs(0, DEFAULT_RETRY, '2')).toBe(2000);
    expect(backoffMs(4, DEFAULT_RETRY, '0')).toBe(0);
    expect(backoffMs(0, DEFAULT_RETRY, '86400')).toBe(DEFAULT_RETRY.maxMs * 3);
    const inFive = new Date(Date.now() + 5000).toUTCString();
    const ms = backoffMs(0, DEFAULT_RETRY, inFive);
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
  });

  it('retries rate limits and server errors, not client errors', () => {
    expect([429, 408, 500, 502, 503, 504].every(transientStatus)).toBe(true);
    expect([400, 401, 403, 404, 405, 416, 501, 505].some(transientStatus)).toBe(false);
  });

  it('retries resets but not certificates or refused connections', () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(isTransportFailure(reset)).toBe(true);
    expect(isTransportFailure(new TransportError('registry-tls', 'bad cert', false, {}))).toBe(
      false,
    );
    expect(isTransportFailure(new TransportError('registry-unreachable', 'reset', true, {}))).toBe(
      true,
    );
    expect(isTransportFailure(new Error('plain'))).toBe(false);
  });
});
