/** The pipeline commands: `repro` and `dag`. */
import os from 'node:os';
import { openRepo } from '../core/repo.js';
import { Workspace } from '../data/workspace.js';
import { dagView, type DagView } from '../pipeline/dag.js';
import { Executor, type ReproResult } from '../pipeline/executor.js';
import { closure } from '../pipeline/graph.js';
import { planStages } from '../pipeline/plan.js';
import { loadProject, resolveTargets } from '../pipeline/project.js';
import type { CommandContext } from './context.js';

export interface ReproOptions {
  force?: boolean;
  single?: boolean;
  downstream?: boolean;
  forceDownstream?: boolean;
  pipeline?: boolean;
  allPipelines?: boolean;
  keepGoing?: boolean;
  dry?: boolean;
  allowMissing?: boolean;
  noCommit?: boolean;
  noRunCache?: boolean;
  /** default: the number of cores */
  jobs?: number;
}

export async function repro(
  ctx: CommandContext,
  targets: readonly string[],
  options: ReproOptions,
): Promise<ReproResult> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  const ws = new Workspace(repo, ctx.sink);
  try {
    const project = loadProject(repo.root);
    const picked = resolveTargets(project, ctx.cwd, targets);
    const plan = planStages(project.graph, picked, {
      single: options.single === true,
      downstream: options.downstream === true,
      pipeline: options.pipeline === true,
      allPipelines: options.allPipelines === true,
    });
    const executor = new Executor(ws, project.graph, {
      cwd: ctx.cwd,
      env: ctx.env,
      force: options.force === true,
      forceDownstream: options.forceDownstream === true,
      keepGoing: options.keepGoing === true,
      dry: options.dry === true,
      allowMissing: options.allowMissing === true,
      noCommit: options.noCommit === true,
      noRunCache: options.noRunCache === true,
      jobs: options.jobs ?? os.availableParallelism(),
      sink: ctx.sink,
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });
    return await executor.run(plan);
  } finally {
    await ws.close();
  }
}

export async function dag(ctx: CommandContext, target: string | undefined): Promise<DagView> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  const project = loadProject(repo.root);
  const subset =
    target === undefined
      ? new Set(project.graph.stages)
      : closure(project.graph, resolveTargets(project, ctx.cwd, [target]), 'upstream');
  return dagView(project.graph, subset);
}
