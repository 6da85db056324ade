/** Spreads items over the worker pool and this thread at once. */
import { attachStored, storedOf } from './cache.js';
import type { WorkerPool } from './pool.js';

/**
 * Runs items on worker threads and on this thread at once: with N cores, N-1 workers and
 * the main thread each take the next item. Each worker has two items in flight so it never
 * waits for the main thread to hand it more.
 */
export async function runParallel<I, R>(
  ctx: { pool(): WorkerPool },
  items: readonly I[],
  here: (item: I) => Promise<R> | R,
  there: (pool: WorkerPool, item: I) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  // After a failure no new item starts, but items in flight finish: their side effects
  // (stored objects) must be known before the caller rolls back.
  let failure: { error: unknown } | undefined;
  const take = async (run: (item: I) => Promise<R> | R, yieldAfter: boolean): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await run(items[i] as I);
      } catch (error) {
        failure ??= { error };
        if (failure.error !== error) attachStored(failure.error, storedOf(error));
      }
      // let worker replies in, so their next items go out while we work on ours
      if (yieldAfter) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const takers: Promise<void>[] = [];
  for (let t = 0; items.length > 1 && t < ctx.pool().size * 2; t++) {
    takers.push(take((item) => there(ctx.pool(), item), false));
  }
  await take(here, true);
  await Promise.all(takers);
  if (failure !== undefined) throw failure.error;
  return results;
}
