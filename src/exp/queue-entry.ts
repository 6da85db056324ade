/**
 * One claimed queue entry run to its end inside the queue runner's process: a pooled worktree,
 * its params, its pipeline once a slot is free, then its commit and, in one ref transaction,
 * its experiment ref and its removal from the queue (or its move to `exp-failed/`).
 */
import fsp from 'node:fs/promises';
import { CairnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { experimentHash, experimentMessage } from './commit.js';
import { openEntryLog } from './entry-log.js';
import { applyAssignments } from './params-edit.js';
import { runPipelineIn } from './pipeline-run.js';
import {
  FAILED,
  RUNNING,
  killPath,
  logPath,
  moveCommands,
  pidPath,
  type QueueEntry,
} from './queue.js';
import { expRefName } from './refs.js';
import type { ExperimentResult, ExpRepo } from './run.js';
import { type KillWatch, stopProcessesIn } from './stop.js';
import type { RefSession } from './transaction.js';
import type { PooledWorktree, WorktreePool } from './worktree-pool.js';

/** A counting semaphore, first come first served. */
export class Slots {
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

/**
 * Counts experiments between getting their slot and starting their stage command: the moments
 * a lane's wait is made of. The runner's other work (claiming and making the next entries
 * ready, committing finished ones) runs on the same thread, so it waits for none to be there.
 */
export class Starting {
  #count = 0;
  #waiting: (() => void)[] = [];

  enter(): void {
    this.#count += 1;
  }

  leave(): void {
    this.#count -= 1;
    if (this.#count > 0) return;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** Resolves when no experiment is starting. */
  async none(): Promise<void> {
    if (this.#count > 0) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
}

/** What the entries of one runner share. */
export interface Runner {
  r: ExpRepo;
  /** claims, experiment refs, failures: one git for all */
  refs: RefSession;
  pool: WorktreePool;
  /** pipelines at once */
  slots: Slots;
  starting: Starting;
  kills: KillWatch;
  /** parallel stages within one experiment */
  jobs: number;
}

/**
 * Runs one claimed entry (under `exp-running/`) to its end: an experiment ref written together
 * with the entry's removal in one transaction, or the entry moved to `exp-failed/`.
 * `onSlot` is called when its pipeline gets a slot (or never will).
 */
export async function runClaimed(
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
  const at = { stopped: false, holding: false, starting: false };
  const markStarted = (): void => {
    if (!at.starting) return;
    at.starting = false;
    q.starting.leave();
  };
  const freeSlot = (): void => {
    markStarted();
    if (!at.holding) return;
    at.holding = false;
    q.slots.give();
  };
  const staged: EventSink = (event) => {
    if (event.type === 'stage-command') markStarted();
    sink(event);
  };
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
        sink: staged,
        signal: controller.signal,
        jobs: q.jobs,
        force: false,
        noRunCache: false,
        ready: async () => {
          await q.slots.take();
          at.holding = true;
          at.starting = true;
          q.starting.enter();
          giveSlot();
        },
        ran: freeSlot,
      });
    } finally {
      freeSlot();
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
    await q.starting.none();
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
export async function runLogged(q: Runner, e: QueueEntry, onSlot: () => void): Promise<boolean> {
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
