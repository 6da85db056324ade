/**
 * `exp queue start`: the queue run inside this one process, N experiments' pipelines at a
 * time. Each claimed entry (queue-entry.ts) gets a pooled temp worktree, its params and its
 * data checked out while earlier ones still run, and is committed after it gave its slot to
 * the next, so git's bookkeeping overlaps the stages instead of adding to them. `exp queue
 * kill` leaves a marker file the runner watches (stop.ts).
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import { Slots, Starting, runLogged, type Runner } from './queue-entry.js';
import {
  FAILED,
  QUEUE,
  RUNNING,
  killPath,
  listQueue,
  move,
  moveCommands,
  pidPath,
  queueDir,
} from './queue.js';
import type { ExpRepo } from './run.js';
import { KillWatch } from './stop.js';
import { RefSession } from './transaction.js';
import { WorktreePool } from './worktree-pool.js';
import { sweepStale } from './worktree.js';

export interface QueueStartResult {
  /** ids that finished with an experiment ref */
  done: string[];
  failed: string[];
}

/**
 * Runs the queue until it is empty, `jobs` pipelines at a time, all in this process. Up to
 * `jobs` more entries are claimed ahead and made ready (worktree, params, data) meanwhile.
 */
export async function startQueue(r: ExpRepo, jobs: number): Promise<QueueStartResult> {
  await fsp.mkdir(queueDir(r), { recursive: true });
  const [entries] = await Promise.all([listQueue(r), sweepStale(r.root, r.tmpDir, r.env)]);
  // Entries whose runner died (kill -9, reboot) are failed, not running forever.
  await Promise.all(
    entries
      .filter((e) => e.state === 'killed')
      .map((e) => move(r, e.id, e.commit, RUNNING, FAILED)),
  );
  const q: Runner = {
    r,
    refs: new RefSession(r.root, r.env),
    pool: new WorktreePool(r.root, r.tmpDir, r.env),
    slots: new Slots(jobs),
    starting: new Starting(),
    kills: new KillWatch((id) => killPath(r, id)),
    jobs: os.availableParallelism(),
  };
  const result: QueueStartResult = { done: [], failed: [] };
  const ahead = new Slots(jobs);
  const running = new Set<Promise<void>>();
  let pending = entries.filter((e) => e.state === 'queued');
  try {
    for (;;) {
      await ahead.take();
      await q.starting.none();
      if (r.signal?.aborted === true) break;
      let next = pending.shift();
      if (next === undefined) {
        // Entries queued since the last look run too.
        pending = (await listQueue(r)).filter((e) => e.state === 'queued');
        next = pending.shift();
        if (next === undefined) break;
      }
      const e = next;
      if (!(await q.refs.apply(moveCommands(e.id, e.commit, QUEUE, RUNNING))).ok) {
        ahead.give(); // another runner took it
        continue;
      }
      await fsp.writeFile(pidPath(r, e.id), `${String(process.pid)}\n`);
      const p: Promise<void> = runLogged(q, e, () => {
        ahead.give();
      })
        .then((ok) => {
          (ok ? result.done : result.failed).push(e.id);
        })
        .finally(() => running.delete(p));
      running.add(p);
    }
  } finally {
    await Promise.allSettled(running);
    q.kills.stop();
    await Promise.all([q.pool.dispose(), q.refs.close()]);
  }
  return result;
}
