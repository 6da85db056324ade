/** Bounded concurrency for I/O-bound work (transfers, registry calls, object copies). */

/**
 * Runs `fn` over `items`, at most `limit` at once, and answers the results in order. The first
 * failure (or `signal` aborting) stops new starts; the ones running finish, then it is thrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        signal?.throwIfAborted();
        out[i] = await fn(items[i] as T);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed.error;
  return out;
}
