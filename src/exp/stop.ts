/**
 * Stopping one experiment's stage commands when several run inside the one queue process. They
 * share its process group, so a group signal would stop them all; instead the processes are
 * found by the `CAIRN_ROOT=<folder>` every stage command (and what it starts) inherits, and the
 * folder is the experiment's own worktree. Linux's /proc only: elsewhere only the stage's shell
 * is stopped (through the executor's AbortSignal). `exp queue kill`, from another process, asks
 * through a marker file the runner watches for.
 */
import fs from 'node:fs';

/** Pids of processes whose environment holds `CAIRN_ROOT=<root>`. */
export function processesIn(root: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const needle = Buffer.from(`CAIRN_ROOT=${root}\0`);
  const found: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = fs.readFileSync(`/proc/${name}/environ`);
    } catch {
      continue; // gone, or another user's
    }
    const at = environ.indexOf(needle);
    if (at === 0 || (at > 0 && environ[at - 1] === 0)) found.push(pid);
  }
  return found;
}

/** Sends `signal` to every process running in `root`; returns how many were signalled. */
export function stopProcessesIn(root: string, signal: NodeJS.Signals = 'SIGTERM'): number {
  let n = 0;
  for (const pid of processesIn(root)) {
    try {
      process.kill(pid, signal);
      n += 1;
    } catch {
      // ended meanwhile
    }
  }
  return n;
}

/**
 * Looks for `exp queue kill`'s marker files of the experiments this process runs, five times a
 * second (a stat each) while it runs any.
 */
export class KillWatch {
  readonly #markerOf: (id: string) => string;
  readonly #watched = new Map<string, () => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(markerOf: (id: string) => string) {
    this.#markerOf = markerOf;
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
      if (fs.existsSync(this.#markerOf(id))) {
        this.#watched.delete(id);
        onKill();
      }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
