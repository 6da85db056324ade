/**
 * The experiment queue, kept in git refs and files (no broker, no daemon). A queued experiment
 * is a commit: its tree is the workspace snapshot, its parent the baseline, its message the
 * JSON of its name, params and targets. It moves between `refs/cairn/exp-queue/<id>`,
 * `exp-running/<id>` and `exp-failed/<id>` in atomic `update-ref` transactions; a finished one
 * becomes an ordinary experiment ref. The runner (queue-runner.ts) records its pid for each
 * entry it runs, and writes its log, in `.cairn/tmp/exps/queue/`, so `status`, `logs` and
 * `kill` work from any shell.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { processAlive } from '../core/fs.js';
import { git } from '../core/git.js';
import type { Assignment } from './overrides.js';
import type { ExpRepo, PreparedExp } from './run.js';
import { updateRefs } from './transaction.js';
import { expsTmpDir } from './worktree.js';

export const QUEUE = 'refs/cairn/exp-queue/';
export const RUNNING = 'refs/cairn/exp-running/';
export const FAILED = 'refs/cairn/exp-failed/';

export type QueueState = 'queued' | 'running' | 'failed' | 'killed';

export interface QueueEntry {
  id: string;
  name: string;
  baseline: string;
  /** the queue commit */
  commit: string;
  /** its tree: the workspace snapshot the experiment starts from */
  tree: string;
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

export function queueDir(r: ExpRepo): string {
  return path.join(expsTmpDir(r.tmpDir), 'queue');
}

export function logPath(r: ExpRepo, id: string): string {
  return path.join(queueDir(r), `${id}.log`);
}

/** The pid of the process running the entry (the queue runner). */
export function pidPath(r: ExpRepo, id: string): string {
  return path.join(queueDir(r), `${id}.pid`);
}

/** Present while `exp queue kill` asks the runner to stop the entry. */
export function killPath(r: ExpRepo, id: string): string {
  return path.join(queueDir(r), `${id}.kill`);
}

function readPid(r: ExpRepo, id: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidPath(r, id), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Adds prepared experiments to the queue, in order, in one ref transaction. */
export async function enqueue(r: ExpRepo, exps: readonly PreparedExp[]): Promise<QueueEntry[]> {
  // Sortable: submission time, then order within one call.
  const now = String(Date.now());
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
    entries.push({
      id: `${now}-${String(i).padStart(4, '0')}-${randomBytes(3).toString('hex')}`,
      name: e.name,
      baseline: e.baseline,
      commit,
      tree: e.tree,
      assignments: e.assignments,
      targets: e.targets,
      state: 'queued',
    });
  }
  const added = await updateRefs(
    r.root,
    r.env,
    entries.map((e) => `create ${QUEUE}${e.id} ${e.commit}`),
  );
  if (!added.ok)
    throw new CairnError('git-failed', `could not add to the queue: ${added.message}`, {
      hint: 'Check that the repository is writable, then queue again.',
    });
  return entries;
}

/** Every queued, running and failed entry, oldest first. */
export async function listQueue(r: ExpRepo): Promise<QueueEntry[]> {
  const out = await git(
    r.root,
    [
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(tree)%00%(parent)%00%(contents:subject)',
      'refs/cairn/',
    ],
    { env: r.env },
  );
  const entries: QueueEntry[] = [];
  for (const line of out.split('\n')) {
    const [ref, commit, tree, parent, subject] = line.split('\0');
    if (
      ref === undefined ||
      commit === undefined ||
      tree === undefined ||
      parent === undefined ||
      subject === undefined
    )
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
      tree,
      assignments: message.assignments,
      targets: message.targets,
      state,
      ...(pid === undefined ? {} : { pid }),
    });
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The ref transaction that moves an entry from one namespace to another (or drops it). */
export function moveCommands(
  id: string,
  commit: string,
  from: string,
  to: string | undefined,
): string[] {
  return [
    ...(to === undefined ? [] : [`create ${to}${id} ${commit}`]),
    `delete ${from}${id} ${commit}`,
  ];
}

/** Moves an entry between namespaces atomically; false when another process moved it first. */
export async function move(
  r: ExpRepo,
  id: string,
  commit: string,
  from: string,
  to: string | undefined,
): Promise<boolean> {
  return (await updateRefs(r.root, r.env, moveCommands(id, commit, from, to))).ok;
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

/**
 * Asks the runner of each running experiment to stop it (a marker file it watches for): its
 * stage commands get SIGTERM and it is marked failed. Returns the ids asked.
 */
export async function killRunning(r: ExpRepo, specs: readonly string[]): Promise<string[]> {
  const entries = await listQueue(r);
  const killed: string[] = [];
  for (const spec of specs) {
    const e = entries.find((x) => (x.id === spec || x.name === spec) && x.state === 'running');
    if (e === undefined)
      throw new CairnError('not-found', `no running experiment '${spec}'`, {
        hint: 'See `cairn exp queue status` for what is running.',
      });
    await fsp.writeFile(killPath(r, e.id), `${String(process.pid)}\n`);
    killed.push(e.id);
  }
  return killed;
}
