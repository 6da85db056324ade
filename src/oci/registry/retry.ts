/** Retry policy for registry requests: how often, how long to wait, and which answers qualify. */

export interface RetryPolicy {
  /** attempts after the first */
  retries: number;
  /** ms before the first retry; doubles each time, with jitter */
  baseMs: number;
  /** ms, the longest single wait */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseMs: 200, maxMs: 10_000 };

/** How long to wait before retry `attempt` (0-based): exponential with jitter (between half and all of the cap), Retry-After wins. */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfter?: string): number {
  if (retryAfter !== undefined) {
    const secs = Number(retryAfter);
    const at = Number.isFinite(secs) ? secs * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(at)) return Math.min(Math.max(at, 0), policy.maxMs * 3);
  }
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

/** True for answers worth retrying: rate limits and server errors. */
export function transientStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}
