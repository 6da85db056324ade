/**
 * `exp queue start`: the queue run inside this one process, N experiments' pipelines at a
 * time. Each claimed entry gets a pooled temp worktree, its params and its data checked out
 * while earlier ones still run, and is committed after it gave its slot to the next, so git's
 * bookkeeping overlaps the stages instead of adding to them. `exp queue kill` leaves a marker
 * file the runner watches; it then stops that experiment's stage commands (stop.ts).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import { CairnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { experimentHash, experimentMessage } from './commit.js';
import { openEntryLog } from './entry-log.js';
import { applyAssignments } from './params-edit.js';
import { runPipelineIn } from './pipeline-run.js';
import {
  FAILED,
  QUEUE,
  RUNNING,
  killPath,
  listQueue,
  logPath,
  move,
  moveCommands,
  pidPath,
  queueDir,
  type QueueEntry,
} from './queue.js';
import { expRefName } from './refs.js';
import type { ExperimentResult, ExpRepo } from './run.js';
import { stopProcessesIn } from './stop.js';
import { RefSession } from './transaction.js';
import { WorktreePool, type PooledWorktree } from './worktree-pool.js';
import { sweepStale } from './worktree.js';

/** A counting semaphore, first come first served. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(n: number) {
    this.#free = n;
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free += 1;
    else next();
  }
}

/** Polls for `exp queue kill`'s marker files of the entries this process runs. */
class KillWatch {
  readonly #r: ExpRepo;
  readonly #watched = new Map<string, () => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(r: ExpRepo) {
    this.#r = r;
  }

  /** Calls `onKill` once if the entry's marker appears; returns the function that stops watching. */
  watch(id: string, onKill: () => void): () => void {
    this.#watched.set(id, onKill);
    this.#timer ??= setInterval(() => {
      this.#poll();
    }, 200);
    return () => {
      this.#watched.delete(id);
      if (this.#watched.size === 0) this.stop();
    };
  }

  #poll(): void {
    for (const [id, onKill] of this.#watched)
      if (fs.existsSync(killPath(this.#r, id))) {
        this.#watched.delete(id);
        onKill();
      }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

interface Runner {
  r: ExpRepo;
  /** claims, experiment refs, failures: one git for all */
  refs: RefSession;
  pool: WorktreePool;
  /** pipelines at once */
  slots: Slots;
  kills: KillWatch;
  /** parallel stages within one experiment */
  jobs: number;
}

/**
 * Runs one claimed entry (under `exp-running/`) to its end: an experiment ref written together
 * with the entry's removal in one transaction, or the entry moved to `exp-failed/`.
 * `onSlot` is called when its pipeline gets a slot (or never will).
 */
async function runClaimed(
  q: Runner,
  e: QueueEntry,
  sink: EventSink,
  onSlot: () => void,
): Promise<ExperimentResult> {
  const { r } = q;
  const started = Date.now();
  const ref = expRefName(e.baseline, e.name);
  const controller = new AbortController();
  let wt: PooledWorktree | undefined;
  // Set from callbacks (kill, slot), so read through an object rather than narrowed locals.
  const at = { stopped: false, holding: false };
  const stop = (): void => {
    at.stopped = true;
    controller.abort(new Error(`experiment ${e.name} stopped`));
    if (wt !== undefined) stopProcessesIn(wt.dir);
  };
  r.signal?.addEventListener('abort', stop, { once: true });
  const unwatch = q.kills.watch(e.id, stop);
  let slotGiven = false;
  const giveSlot = (): void => {
    if (slotGiven) return;
    slotGiven = true;
    onSlot();
  };
  let done = false;
  try {
    wt = await q.pool.acquire(e.baseline, e.tree);
    const edit = applyAssignments(wt.dir, e.assignments);
    for (const key of edit.added)
      sink({ type: 'warning', message: `${key} was not in the params file: added it` });
    for (const file of edit.created)
      sink({ type: 'warning', message: `${file} did not exist: created it` });
    let repro;
    try {
      repro = await runPipelineIn({
        dir: wt.dir,
        env: { ...r.env, CAIRN_CACHE_DIR: r.cacheDir },
        targets: e.targets,
        sink,
        signal: controller.signal,
        jobs: q.jobs,
        force: false,
        noRunCache: false,
        ready: async () => {
          await q.slots.take();
          at.holding = true;
          giveSlot();
        },
      });
    } finally {
      if (at.holding) q.slots.give();
      giveSlot();
    }
    const base = {
      name: e.name,
      baseline: e.baseline,
      ref,
      assignments: e.assignments,
      added: edit.added,
      stages: repro.stages,
    };
    if (repro.failed || at.stopped) return { ...base, failed: true, ms: Date.now() - started };
    const lent = wt;
    wt = undefined; // the pool has it back, whatever happens
    const commit = await q.pool.commitAndRelease(
      lent,
      e.baseline,
      experimentMessage(experimentHash(lent.dir)),
    );
    // The experiment ref appears exactly when the entry leaves the queue.
    const finished = await q.refs.apply([
      `create ${ref} ${commit}`,
      `delete ${RUNNING}${e.id} ${e.commit}`,
    ]);
    if (!finished.ok)
      throw new CairnError('exists', `cannot write experiment ${ref}: ${finished.message}`, {
        hint: 'Another experiment may have this name: see `cairn exp list`.',
      });
    done = true;
    return { ...base, commit, failed: false, ms: Date.now() - started };
  } finally {
    giveSlot();
    unwatch();
    r.signal?.removeEventListener('abort', stop);
    if (!done) await q.refs.apply(moveCommands(e.id, e.commit, RUNNING, FAILED));
    await Promise.all([
      fsp.rm(pidPath(r, e.id), { force: true }),
      fsp.rm(killPath(r, e.id), { force: true }),
    ]);
    if (wt !== undefined) {
      // A stopped run's leftovers may still be exiting: its folder is not reused.
      if (at.stopped) {
        stopProcessesIn(wt.dir, 'SIGKILL');
        await q.pool.discard(wt);
      } else await q.pool.release(wt);
    }
  }
}

function paramsText(e: QueueEntry): string {
  return e.assignments.length === 0
    ? ''
    : ` (${e.assignments.map((a) => `${a.key}=${a.value}`).join(' ')})`;
}

/** One entry with its events in its log file; true when it became an experiment. */
async function runLogged(q: Runner, e: QueueEntry, onSlot: () => void): Promise<boolean> {
  const log = openEntryLog(logPath(q.r, e.id));
  try {
    const result = await runClaimed(q, e, log.sink, onSlot);
    if (result.failed) log.line(`Experiment '${e.name}'${paramsText(e)} failed: no ref written.`);
    else
      log.line(
        `Ran experiment '${e.name}'${paramsText(e)} in ${(result.ms / 1000).toFixed(1)}s: ${result.ref} (${(result.commit ?? '').slice(0, 7)})`,
      );
    return !result.failed;
  } catch (error) {
    log.line(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof CairnError && error.hint !== undefined) log.line(error.hint);
    log.line(`Experiment '${e.name}'${paramsText(e)} failed: no ref written.`);
    return false;
  } finally {
    log.close();
  }
}

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
    kills: new KillWatch(r),
    jobs: os.availableParallelism(),
  };
  const result: QueueStartResult = { done: [], failed: [] };
  const ahead = new Slots(jobs);
  const running = new Set<Promise<void>>();
  let pending = entries.filter((e) => e.state === 'queued');
  try {
    for (;;) {
      await ahead.take();
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

/**
 * Runs one entry already marked running, in this process with its events on `r.sink` (the
 * hidden `exp queue exec <id>` command).
 */
export async function runEntry(r: ExpRepo, id: string, jobs: number): Promise<ExperimentResult> {
  const e = (await listQueue(r)).find(
    (x) => x.id === id && (x.state === 'running' || x.state === 'killed'),
  );
  if (e === undefined) throw new CairnError('not-found', `no running experiment ${id}`);
  await fsp.mkdir(queueDir(r), { recursive: true });
  await fsp.writeFile(pidPath(r, id), `${String(process.pid)}\n`);
  const q: Runner = {
    r,
    refs: new RefSession(r.root, r.env),
    pool: new WorktreePool(r.root, r.tmpDir, r.env),
    slots: new Slots(1),
    kills: new KillWatch(r),
    jobs,
  };
  try {
    return await runClaimed(q, e, r.sink, () => undefined);
  } finally {
    q.kills.stop();
    await Promise.all([q.pool.dispose(), q.refs.close()]);
  }
}
