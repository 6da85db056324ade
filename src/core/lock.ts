/**
 * Inter-process locks as files created with O_EXCL that name their owner (pid, host,
 * command). A lock whose owner process is gone is stale and is broken; a live one is waited on
 * with a message, then given up with a clear error.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CairnError, LockTimeoutError, errnoCode } from './errors.js';
import { processAlive } from './fs.js';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  /** ms since the epoch */
  since: number;
}

export interface LockOptions {
  /** How long to wait for a live owner, in ms; 0 fails at once. */
  timeoutMs: number;
  /** Called once, when we first find the lock taken by a live process (`owner`: who holds it). */
  onWait?: (message: string, owner: { pid: number; command: string }) => void;
  /** What the lock file says we are doing (`cairn add data`), shown to whoever waits on us. */
  command: string;
  signal?: AbortSignal;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const POLL_MS = 50;

export async function acquireLock(lockPath: string, options: LockOptions): Promise<HeldLock> {
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command: options.command,
    since: Date.now(),
  };
  const deadline = Date.now() + options.timeoutMs;
  let announced = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(lockPath, me)) return held(lockPath);
    const owner = await readOwner(lockPath);
    if (owner === undefined) continue; // released (or half-written by a dying owner) meanwhile
    if (owner === 'corrupt' || isStale(owner)) {
      await breakStale(lockPath, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        'lock-timeout',
        `${lockPath} is held by pid ${owner.pid} on ${owner.host} (${owner.command}) since ${new Date(owner.since).toISOString()}`,
        {
          hint: 'Wait for that command to finish, or raise core.lock_timeout (seconds). If the process is gone, delete the lock file.',
        },
      );
    }
    if (!announced) {
      announced = true;
      options.onWait?.(
        `Waiting for lock ${lockPath}, held by pid ${owner.pid} (${owner.command})…`,
        owner,
      );
    }
    await sleep(POLL_MS);
  }
}

async function tryCreate(lockPath: string, me: LockOwner): Promise<boolean> {
  // Write the owner to a temp file, then link it into place: the lock file is never empty.
  const tmp = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    await fsp.writeFile(tmp, JSON.stringify(me));
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    // The lock's folder (.cairn/tmp) was deleted: make it again, but never its parent.
    await fsp.mkdir(path.dirname(lockPath)).catch((mkdirError: unknown) => {
      throw errnoCode(mkdirError) === 'ENOENT' ? missingDir(lockPath, mkdirError) : mkdirError;
    });
    await fsp.writeFile(tmp, JSON.stringify(me));
  }
  try {
    await fsp.link(tmp, lockPath);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    if (errnoCode(error) === 'ENOENT') throw missingDir(lockPath, error);
    throw error;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

function missingDir(lockPath: string, cause: unknown): CairnError {
  return new CairnError(
    'lock-dir-missing',
    `Cannot create lock ${lockPath}: its folder is missing`,
    {
      hint: 'Run `cairn init` in this repository first.',
      cause,
    },
  );
}

async function readOwner(lockPath: string): Promise<LockOwner | 'corrupt' | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(lockPath, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return 'corrupt';
    return {
      pid: parsed.pid,
      host: parsed.host,
      command: parsed.command ?? '',
      since: parsed.since ?? 0,
    };
  } catch {
    return 'corrupt';
  }
}

/** Only a lock from this host can be judged: another host's pid means nothing here. */
function isStale(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return false;
  if (owner.pid === process.pid) return false;
  return !processAlive(owner.pid);
}

/**
 * Removes a stale lock. Two processes may both judge it stale; renaming it aside first means
 * only one of them removes it, and the loser re-reads a fresh lock rather than deleting it.
 */
async function breakStale(lockPath: string, seen: LockOwner | 'corrupt'): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}`;
  try {
    await fsp.rename(lockPath, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readOwner(aside);
  const same =
    moved === seen ||
    (moved !== undefined &&
      moved !== 'corrupt' &&
      seen !== 'corrupt' &&
      moved.pid === seen.pid &&
      moved.since === seen.since);
  if (!same && moved !== undefined && moved !== 'corrupt' && !isStale(moved)) {
    // We moved a live owner's fresh lock: put it back if the slot is still free.
    try {
      await fsp.link(aside, lockPath);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
  }
  await fsp.rm(aside, { force: true });
}

function held(lockPath: string): HeldLock {
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await fsp.rm(lockPath, { force: true });
  };
  // A process that exits without releasing (an uncaught error) still frees the lock.
  const onExit = (): void => {
    if (!released) fs.rmSync(lockPath, { force: true });
  };
  process.once('exit', onExit);
  return {
    path: lockPath,
    release: async () => {
      process.off('exit', onExit);
      await release();
    },
    [Symbol.asyncDispose]: async () => {
      process.off('exit', onExit);
      await release();
    },
  };
}
