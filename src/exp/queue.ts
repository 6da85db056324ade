/**
 * The experiment queue, kept in git refs and files (no broker, no daemon). A queued experiment
 * is a commit: its tree is the workspace snapshot, its parent the baseline, its message the
 * JSON of its name, params and targets. It moves between `refs/cairn/exp-queue/<id>`,
 * `exp-running/<id>` and `exp-failed/<id>` in atomic `update-ref` transactions; a finished one
 * becomes an ordinary experiment ref. Each run is a child process with its pid and log in
 * `.cairn/tmp/exps/queue/`, so `status`, `logs` and `kill` work from any shell.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { processAlive } from '../core/fs.js';
import { git } from '../core/git.js';
import type { Assignment } from './overrides.js';
import type { ExpRepo, PreparedExp, RunSettings, ExperimentResult } from './run.js';
import { runPrepared } from './run.js';
import { expsTmpDir, sweepStale } from './worktree.js';

const QUEUE = 'refs/cairn/exp-queue/';
const RUNNING = 'refs/cairn/exp-running/';
const FAILED = 'refs/cairn/exp-failed/';

export type QueueState = 'queued' | 'running' | 'failed' | 'killed';

export interface QueueEntry {
  id: string;
  name: string;
  baseline: string;
  /** the queue commit */
  commit: string;
  assignments: Assignment[];
  targets: string[];
  /** `killed`: marked running, but its process is gone */
  state: QueueState;
  pid?: number;
}

interface EntryMessage {
  cairnExpQueue: 1;
  name: string;
  assignments: Assignment[];
  targets: string[];
}

function queueDir(r: ExpRepo): string {
  return path.join(expsTmpDir(r.tmpDir), 'queue');
}

export function logPath(r: ExpRepo, id: string): string {
  return path.join(queueDir(r), `${id}.log`);
}

function pidPath(r: ExpRepo, id: string): string {
  return path.join(queueDir(r), `${id}.pid`);
}

function readPid(r: ExpRepo, id: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidPath(r, id), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Adds prepared experiments to the queue, in order. */
export async function enqueue(r: ExpRepo, exps: readonly PreparedExp[]): Promise<QueueEntry[]> {
  const entries: QueueEntry[] = [];
  for (const [i, e] of exps.entries()) {
    const message: EntryMessage = {
      cairnExpQueue: 1,
      name: e.name,
      assignments: e.assignments,
      targets: e.targets,
    };
    const commit = (
      await git(r.root, ['commit-tree', e.tree, '-p', e.baseline, '-m', JSON.stringify(message)], {
        env: r.env,
      })
    ).trim();
    // Sortable: submission time, then order within one call.
    const id = `${String(Date.now())}-${String(i).padStart(4, '0')}-${randomBytes(3).toString('hex')}`;
    await git(r.root, ['update-ref', `${QUEUE}${id}`, commit, ''], { env: r.env });
    entries.push({
      id,
      name: e.name,
      baseline: e.baseline,
      commit,
      assignments: e.assignments,
      targets: e.targets,
      state: 'queued',
    });
  }
  return entries;
}

/** Every queued, running and failed entry, oldest first. */
export async function listQueue(r: ExpRepo): Promise<QueueEntry[]> {
  const out = await git(
    r.root,
    [
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(parent)%00%(contents:subject)',
      'refs/cairn/',
    ],
    { env: r.env },
  );
  const entries: QueueEntry[] = [];
  for (const line of out.split('\n')) {
    const [ref, commit, parent, subject] = line.split('\0');
    if (ref === undefined || commit === undefined || parent === undefined || subject === undefined)
      continue;
    const prefix = [QUEUE, RUNNING, FAILED].find((p) => ref.startsWith(p));
    if (prefix === undefined) continue;
    let message: EntryMessage;
    try {
      message = JSON.parse(subject) as EntryMessage;
    } catch {
      continue;
    }
    const id = ref.slice(prefix.length);
    let state: QueueState = prefix === QUEUE ? 'queued' : prefix === RUNNING ? 'running' : 'failed';
    const pid = state === 'running' ? readPid(r, id) : undefined;
    if (state === 'running' && (pid === undefined || !processAlive(pid))) state = 'killed';
    entries.push({
      id,
      name: message.name,
      baseline: parent,
      commit,
      assignments: message.assignments,
      targets: message.targets,
      state,
      ...(pid === undefined ? {} : { pid }),
    });
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Moves an entry between namespaces atomically; false when another process moved it first. */
async function move(
  r: ExpRepo,
  id: string,
  commit: string,
  from: string,
  to: string | undefined,
): Promise<boolean> {
  const lines = [
    'start',
    ...(to === undefined ? [] : [`create ${to}${id} ${commit}`]),
    `delete ${from}${id} ${commit}`,
    'commit',
    '',
  ];
  return new Promise((resolve) => {
    const child = spawn('git', ['update-ref', '--stdin'], {
      cwd: r.root,
      env: r.env,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => {
      resolve(false);
    });
    child.on('close', (code) => {
      resolve(code === 0);
    });
    child.stdin.end(lines.join('\n'));
  });
}

/** Removes queued or failed entries by id or name; returns the ids removed. */
export async function removeQueued(r: ExpRepo, specs: readonly string[]): Promise<string[]> {
  const entries = await listQueue(r);
  const removed: string[] = [];
  for (const spec of specs) {
    const e = entries.find((x) => x.id === spec || x.name === spec);
    if (e === undefined || e.state === 'running')
      throw new CairnError('not-found', `no queued or failed experiment '${spec}'`, {
        hint: 'See `cairn exp queue status`; stop a running one with `cairn exp queue kill` first.',
      });
    const prefix = e.state === 'queued' ? QUEUE : e.state === 'failed' ? FAILED : RUNNING;
    if (await move(r, e.id, e.commit, prefix, undefined)) removed.push(e.id);
    await fsp.rm(logPath(r, e.id), { force: true });
  }
  return removed;
}

/** Signals running experiments (their whole process group); returns the ids signalled. */
export async function killRunning(r: ExpRepo, specs: readonly string[]): Promise<string[]> {
  const entries = await listQueue(r);
  const killed: string[] = [];
  for (const spec of specs) {
    const e = entries.find((x) => (x.id === spec || x.name === spec) && x.state === 'running');
    if (e?.pid === undefined)
      throw new CairnError('not-found', `no running experiment '${spec}'`, {
        hint: 'See `cairn exp queue status` for what is running.',
      });
    try {
      process.kill(-e.pid, 'SIGTERM');
    } catch {
      process.kill(e.pid, 'SIGTERM');
    }
    killed.push(e.id);
  }
  return killed;
}

/** Runs one entry in this process (the queue's worker): marked running, then done or failed. */
export async function runEntry(
  r: ExpRepo,
  id: string,
  settings: RunSettings,
): Promise<ExperimentResult> {
  const e = (await listQueue(r)).find((x) => x.id === id);
  if (e === undefined) throw new CairnError('not-found', `no queued experiment ${id}`);
  await fsp.mkdir(queueDir(r), { recursive: true });
  await fsp.writeFile(pidPath(r, id), `${String(process.pid)}\n`);
  const tree = (await git(r.root, ['rev-parse', `${e.commit}^{tree}`], { env: r.env })).trim();
  let result: ExperimentResult | undefined;
  try {
    result = await runPrepared(
      r,
      { baseline: e.baseline, tree, name: e.name, assignments: e.assignments, targets: e.targets },
      settings,
    );
    return result;
  } finally {
    if (result !== undefined && !result.failed) await move(r, id, e.commit, RUNNING, undefined);
    else await move(r, id, e.commit, RUNNING, FAILED);
    await fsp.rm(pidPath(r, id), { force: true });
  }
}

/**
 * After a worker exits: an entry it left marked running (ended by a signal before its own
 * cleanup) is failed, and its temp worktree is removed.
 */
async function settle(r: ExpRepo, e: QueueEntry): Promise<void> {
  await move(r, e.id, e.commit, RUNNING, FAILED);
  await fsp.rm(pidPath(r, e.id), { force: true });
  await sweepStale(r.root, r.tmpDir, r.env);
}

export interface QueueStartResult {
  /** ids that finished with an experiment ref */
  done: string[];
  failed: string[];
}

/**
 * Runs the queue N at a time until it is empty, each experiment a child process
 * (`worker` + `exp queue exec <id>`) in its own process group with its output in its log.
 */
export async function startQueue(
  r: ExpRepo,
  jobs: number,
  worker: readonly string[],
): Promise<QueueStartResult> {
  await fsp.mkdir(queueDir(r), { recursive: true });
  // Entries whose worker died (kill -9, reboot) are failed, not running forever.
  for (const e of await listQueue(r))
    if (e.state === 'killed') await move(r, e.id, e.commit, RUNNING, FAILED);
  const result: QueueStartResult = { done: [], failed: [] };
  const running = new Set<Promise<void>>();
  const [command, ...args] = worker;
  if (command === undefined) throw new Error('Internal error: no worker command');
  for (;;) {
    if (r.signal?.aborted === true) break;
    const next = (await listQueue(r)).find((e) => e.state === 'queued');
    if (next === undefined) break;
    if (!(await move(r, next.id, next.commit, QUEUE, RUNNING))) continue; // another starter took it
    const log = fs.openSync(logPath(r, next.id), 'a');
    const child = spawn(command, [...args, 'exp', 'queue', 'exec', next.id], {
      cwd: r.root,
      env: r.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const pid = child.pid;
    if (pid !== undefined) fs.writeFileSync(pidPath(r, next.id), `${String(pid)}\n`);
    // Workers have their own process groups (for `queue kill`): stop them when the runner is
    // interrupted, rather than leave them running unattended.
    const stop = (): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    r.signal?.addEventListener('abort', stop, { once: true });
    child.on('close', () => r.signal?.removeEventListener('abort', stop));
    const p = new Promise<void>((resolve) => {
      child.on('error', () => {
        resolve();
      });
      child.on('close', (code) => {
        (code === 0 ? result.done : result.failed).push(next.id);
        resolve();
      });
    })
      .then(() => settle(r, next))
      .finally(() => running.delete(p));
    running.add(p);
    if (running.size >= jobs) await Promise.race(running);
  }
  await Promise.all(running);
  return result;
}
