/** The experiment commands: `exp run`, `show`, `list`, `diff`, `apply`, `branch`, `remove`, `queue`. */
import fsp from 'node:fs/promises';
import os from 'node:os';
import { CairnError } from '../core/errors.js';
import { openRepo } from '../core/repo.js';
import { expandGrid, parseOverride } from '../exp/overrides.js';
import {
  applyExperiment,
  branchExperiment,
  diffExperiments,
  removeExperiments,
  type ApplyResult,
  type ExpDiff,
} from '../exp/manage.js';
import { listExpRefs, resolveCommit, type ExpRef } from '../exp/refs.js';
import { collectExperiments, type ShowData, type ShowSelection } from '../exp/show.js';
import {
  pullExperiments,
  pushExperiments,
  type DataSync,
  type SyncResult,
  type SyncSelection,
} from '../exp/sync.js';
import { cacheLayout } from '../data/cache.js';
import { resolveDataRemote } from '../data/remote.js';
import {
  headCommit,
  prepareExperiments,
  runPrepared,
  type ExperimentResult,
  type ExpRepo,
} from '../exp/run.js';
import {
  enqueue,
  killRunning,
  listQueue,
  logPath,
  removeQueued,
  type QueueEntry,
} from '../exp/queue.js';
import { startQueue, type QueueStartResult } from '../exp/queue-runner.js';
import type { CommandContext } from './context.js';

async function expRepo(ctx: CommandContext): Promise<ExpRepo> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  return {
    root: repo.root,
    tmpDir: repo.tmpDir,
    cacheDir: repo.config.cache.dir,
    env: ctx.env,
    sink: ctx.sink,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  };
}

export interface ExpRunOptions {
  /** `-S [file:]key=value`, sweeps included */
  set: readonly string[];
  name?: string;
  /** false: run in the workspace, as DVC does by default */
  temp: boolean;
  force: boolean;
  noRunCache: boolean;
  /** parallel stages within one experiment (default: cores) */
  jobs?: number;
}

export interface ExpRunResult {
  experiments: ExperimentResult[];
  failed: boolean;
}

/** Runs one experiment, or one per point of a sweep's grid, one after the other. */
export async function expRun(
  ctx: CommandContext,
  targets: readonly string[],
  o: ExpRunOptions,
): Promise<ExpRunResult> {
  const r = await expRepo(ctx);
  const grid = expandGrid(o.set.map(parseOverride));
  if (!o.temp && grid.length > 1)
    throw new CairnError(
      'bad-flag',
      `a sweep of ${String(grid.length)} experiments cannot run in the workspace`,
      {
        hint: 'Drop --no-temp: each point of a sweep runs in its own temp worktree.',
      },
    );
  const prepared = await prepareExperiments(r, grid, {
    ...(o.name === undefined ? {} : { name: o.name }),
    targets,
    force: o.force,
  });
  const experiments: ExperimentResult[] = [];
  for (const exp of prepared) {
    const result = await runPrepared(r, exp, {
      temp: o.temp,
      force: o.force,
      noRunCache: o.noRunCache,
      jobs: o.jobs ?? os.availableParallelism(),
    });
    experiments.push(result);
    if (result.failed) break;
  }
  return { experiments, failed: experiments.some((e) => e.failed) };
}

export interface ExpQueueAddOptions {
  set: readonly string[];
  name?: string;
  force: boolean;
}

/** `exp run --queue`: one queue entry per point of the grid; nothing runs. */
export async function expQueueAdd(
  ctx: CommandContext,
  targets: readonly string[],
  o: ExpQueueAddOptions,
): Promise<QueueEntry[]> {
  const r = await expRepo(ctx);
  const grid = expandGrid(o.set.map(parseOverride));
  const queued = (await listQueue(r)).map((e) => e.name);
  const prepared = await prepareExperiments(r, grid, {
    ...(o.name === undefined ? {} : { name: o.name }),
    targets,
    force: o.force,
    taken: queued,
  });
  return enqueue(r, prepared);
}

export interface ExpQueueStartOptions {
  /** experiments at once */
  jobs: number;
}

export async function expQueueStart(
  ctx: CommandContext,
  o: ExpQueueStartOptions,
): Promise<QueueStartResult> {
  return startQueue(await expRepo(ctx), o.jobs);
}

export async function expQueueStatus(ctx: CommandContext): Promise<QueueEntry[]> {
  return listQueue(await expRepo(ctx));
}

/** The log of one queued experiment, by id or name. */
export async function expQueueLogs(ctx: CommandContext, spec: string): Promise<string> {
  const r = await expRepo(ctx);
  const e = (await listQueue(r)).find((x) => x.id === spec || x.name === spec);
  const id = e?.id ?? spec;
  try {
    return await fsp.readFile(logPath(r, id), 'utf8');
  } catch {
    throw new CairnError('not-found', `no log for queued experiment '${spec}'`, {
      hint: 'Logs exist once `cairn exp queue start` has started it; see `cairn exp queue status`.',
    });
  }
}

export async function expQueueKill(
  ctx: CommandContext,
  specs: readonly string[],
): Promise<string[]> {
  return killRunning(await expRepo(ctx), specs);
}

export async function expQueueRemove(
  ctx: CommandContext,
  specs: readonly string[],
): Promise<string[]> {
  return removeQueued(await expRepo(ctx), specs);
}

export type ExpShowOptions = ShowSelection;

export async function expShow(ctx: CommandContext, o: ExpShowOptions): Promise<ShowData> {
  return collectExperiments(await expRepo(ctx), o);
}

export interface ExpListGroup {
  baseline: string;
  experiments: { name: string; rev: string; ref: string }[];
}

/** Experiment names under their baselines: HEAD's, or every baseline's with `all`. */
export async function expList(
  ctx: CommandContext,
  o: { all: boolean; rev?: string },
): Promise<ExpListGroup[]> {
  const r = await expRepo(ctx);
  const refs = await listExpRefs(r.root, r.env);
  let wanted: string | undefined;
  if (!o.all)
    wanted = o.rev === undefined ? await headCommit(r) : await resolveCommit(r.root, o.rev, r.env);
  const groups = new Map<string, ExpListGroup>();
  for (const e of refs.sort((a, b) => a.created - b.created)) {
    if (wanted !== undefined && e.baseline !== wanted) continue;
    const g = groups.get(e.baseline) ?? { baseline: e.baseline, experiments: [] };
    g.experiments.push({ name: e.name, rev: e.commit, ref: e.ref });
    groups.set(e.baseline, g);
  }
  return [...groups.values()];
}

export async function expDiff(
  ctx: CommandContext,
  a: string | undefined,
  b: string | undefined,
  o: { all: boolean },
): Promise<ExpDiff> {
  return diffExperiments(await expRepo(ctx), a, b, o.all);
}

export async function expApply(
  ctx: CommandContext,
  name: string,
  o: { force: boolean },
): Promise<ApplyResult> {
  return applyExperiment(await expRepo(ctx), name, o.force);
}

export async function expBranch(
  ctx: CommandContext,
  name: string,
  branch: string,
): Promise<{ name: string; branch: string; commit: string }> {
  return branchExperiment(await expRepo(ctx), name, branch);
}

export interface ExpRemoveResult {
  removed: ExpRef[];
  /** queue entries (queued or failed) removed by id or name */
  dequeued: string[];
}

/** Removes experiments; names that match no experiment may name queue entries. */
export async function expRemove(
  ctx: CommandContext,
  specs: readonly string[],
): Promise<ExpRemoveResult> {
  const r = await expRepo(ctx);
  const queued = await listQueue(r);
  const inQueue = specs.filter((s) =>
    queued.some((e) => (e.id === s || e.name === s) && e.state !== 'running'),
  );
  const exps = specs.filter((s) => !inQueue.includes(s));
  return { removed: await removeExperiments(r, exps), dequeued: await removeQueued(r, inQueue) };
}

export interface ExpSyncOptions {
  names: readonly string[];
  all: boolean;
  force: boolean;
  /** false: the git refs only (`--no-cache`) */
  cache: boolean;
  /** the data remote (`-r`); default `core.remote` */
  remote?: string;
  /** objects copied at once (`-j`) */
  jobs?: number;
}

async function syncSelection(r: ExpRepo, o: ExpSyncOptions): Promise<SyncSelection> {
  const baseline = o.all || o.names.length > 0 ? undefined : await headCommit(r);
  return { names: o.names, all: o.all, baseline, force: o.force };
}

/** The data remote and cache of a sync, checked before anything moves; none with --no-cache. */
async function dataSync(ctx: CommandContext, o: ExpSyncOptions): Promise<DataSync | undefined> {
  if (!o.cache) return undefined;
  const repo = await openRepo(ctx.cwd, ctx.env);
  return {
    remote: resolveDataRemote(repo.config, o.remote),
    cache: cacheLayout(repo.config.cache.dir, repo.config.cache.shared, repo.directIo),
    jobs: o.jobs ?? 4,
  };
}

/**
 * Pushes experiments (HEAD's by default): their cache objects to the data remote, then their
 * refs to the git remote.
 */
export async function expPush(
  ctx: CommandContext,
  remote: string,
  o: ExpSyncOptions,
): Promise<SyncResult> {
  const r = await expRepo(ctx);
  const data = await dataSync(ctx, o);
  return pushExperiments(
    r,
    remote,
    await listExpRefs(r.root, r.env),
    await syncSelection(r, o),
    data,
  );
}

/**
 * Pulls experiments (HEAD's by default): their commits from the git remote, the cache objects
 * those commits refer to from the data remote, then their refs.
 */
export async function expPull(
  ctx: CommandContext,
  remote: string,
  o: ExpSyncOptions,
): Promise<SyncResult> {
  const r = await expRepo(ctx);
  const data = await dataSync(ctx, o);
  return pullExperiments(r, remote, await syncSelection(r, o), data);
}
