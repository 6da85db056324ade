/**
 * The pipeline run inside an experiment's folder: the `.dvc`-tracked data checked out of the
 * shared cache, then `repro`'s engine (plan, executor, run-cache, dvc.lock) on the targets.
 */
import { openRepo } from '../core/repo.js';
import type { EventSink } from '../core/events.js';
import { checkoutTargets } from '../data/checkout.js';
import { Workspace } from '../data/workspace.js';
import { Executor, type ReproResult } from '../pipeline/executor.js';
import { planStages } from '../pipeline/plan.js';
import { loadProject, resolveTargets } from '../pipeline/project.js';

export interface PipelineRunOptions {
  /** the folder to run in (a temp worktree, or the workspace itself) */
  dir: string;
  /** its environment; CAIRN_CACHE_DIR points a temp worktree at the workspace's cache */
  env: NodeJS.ProcessEnv;
  targets: readonly string[];
  sink: EventSink;
  signal?: AbortSignal;
  /** parallel stages */
  jobs: number;
  /** -f: run every planned stage */
  force: boolean;
  noRunCache: boolean;
  /**
   * Awaited once the folder is ready (data checked out, pipeline loaded and planned), before
   * the first stage: the queue waits there for a free slot, so this part overlaps other runs.
   */
  ready?: () => Promise<void>;
  /** Called as soon as the stages are over, before the workspace's cleanup (the queue's slot). */
  ran?: () => void;
}

export async function runPipelineIn(o: PipelineRunOptions): Promise<ReproResult> {
  const repo = await openRepo(o.dir, o.env);
  const ws = new Workspace(repo, o.sink);
  try {
    const checkout = await checkoutTargets(ws, repo.root, [], { force: true, relink: false });
    for (const f of checkout.failed)
      o.sink({ type: 'warning', message: `${f.path} not checked out: ${f.reason}` });
    const project = loadProject(repo.root);
    const picked = resolveTargets(project, repo.root, o.targets);
    const plan = planStages(project.graph, picked, {
      single: false,
      downstream: false,
      pipeline: false,
      allPipelines: false,
    });
    await o.ready?.();
    const executor = new Executor(ws, project.graph, {
      cwd: repo.root,
      env: o.env,
      force: o.force,
      forceDownstream: false,
      keepGoing: false,
      dry: false,
      allowMissing: false,
      noCommit: false,
      noRunCache: o.noRunCache,
      jobs: o.jobs,
      sink: o.sink,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    try {
      return await executor.run(plan);
    } finally {
      o.ran?.();
    }
  } finally {
    await ws.close();
  }
}
