/**
 * `exp run`: each experiment of a sweep prepared (baseline, workspace snapshot, name, params),
 * then run in a temp worktree (or the workspace) and committed as DVC commits experiments.
 */
import type { EventSink } from '../core/events.js';
import { CairnError } from '../core/errors.js';
import type { StageResult } from '../pipeline/executor.js';
import { commitExperiment, commitWorktree, experimentHash } from './commit.js';
import { git } from '../core/git.js';
import { generateName } from './names.js';
import type { Assignment } from './overrides.js';
import { applyAssignments } from './params-edit.js';
import { runPipelineIn } from './pipeline-run.js';
import { checkExpName, expRefName, listExpRefs } from './refs.js';
import { createWorktree, removeWorktree, snapshotWorkspace, sweepStale } from './worktree.js';

/** The repository an experiment command works on. */
export interface ExpRepo {
  /** the workspace root */
  root: string;
  /** its `.cairn/tmp` */
  tmpDir: string;
  /** the object cache every experiment stores its outputs in (absolute) */
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  sink: EventSink;
  signal?: AbortSignal;
}

/** An experiment ready to run: everything is decided, nothing has run. */
export interface PreparedExp {
  baseline: string;
  /** the workspace's files (uncommitted changes included) as a git tree */
  tree: string;
  name: string;
  assignments: Assignment[];
  targets: string[];
}

export interface RunSettings {
  /** run in a temp worktree (true) or in the workspace, as DVC does by default (false) */
  temp: boolean;
  /** replace experiments of the same name */
  force: boolean;
  noRunCache: boolean;
  /** parallel stages */
  jobs: number;
}

export interface ExperimentResult {
  name: string;
  baseline: string;
  ref: string;
  /** the experiment commit; absent when the pipeline failed */
  commit?: string;
  failed: boolean;
  assignments: Assignment[];
  /** `file:key` the params files lacked and the run added */
  added: string[];
  stages: StageResult[];
  /** wall-clock ms */
  ms: number;
}

export async function headCommit(r: ExpRepo): Promise<string> {
  try {
    return (await git(r.root, ['rev-parse', '--verify', 'HEAD^{commit}'], { env: r.env })).trim();
  } catch {
    throw new CairnError(
      'git-failed',
      `${r.root} has no commit yet to be the experiments' baseline`,
      {
        hint: 'Commit your pipeline (dvc.yaml, params.yaml, code) first: an experiment is a commit on top of one.',
      },
    );
  }
}

/** One prepared experiment per point of the grid, each with a unique name under the baseline. */
export async function prepareExperiments(
  r: ExpRepo,
  grid: readonly Assignment[][],
  options: {
    name?: string;
    targets: readonly string[];
    force: boolean;
    /** names already in use elsewhere (queued entries) */
    taken?: readonly string[];
  },
): Promise<PreparedExp[]> {
  // Independent git calls at once: their process starts dominate a small experiment.
  const [baseline, refs, tree] = await Promise.all([
    headCommit(r),
    listExpRefs(r.root, r.env),
    snapshotWorkspace(r.root, r.tmpDir, r.env),
    sweepStale(r.root, r.tmpDir, r.env),
  ]);
  const taken = new Set(refs.filter((e) => e.baseline === baseline).map((e) => e.name));
  for (const n of options.taken ?? []) taken.add(n);
  return grid.map((assignments, i) => {
    let name: string;
    if (options.name === undefined) name = generateName(taken);
    else {
      name = grid.length === 1 ? options.name : `${options.name}-${String(i + 1)}`;
      checkExpName(name);
      if (taken.has(name) && !options.force)
        throw new CairnError(
          'exists',
          `experiment '${name}' already exists on ${baseline.slice(0, 7)}`,
          {
            hint: 'Pick another name with -n, or pass --force to replace it.',
          },
        );
    }
    taken.add(name);
    return { baseline, tree, name, assignments, targets: [...options.targets] };
  });
}

/** Runs one prepared experiment and commits it when its pipeline succeeds. */
export async function runPrepared(
  r: ExpRepo,
  exp: PreparedExp,
  s: RunSettings,
): Promise<ExperimentResult> {
  const started = Date.now();
  const ref = expRefName(exp.baseline, exp.name);
  const dir = s.temp
    ? await createWorktree(r.root, r.tmpDir, exp.baseline, exp.tree, r.env)
    : r.root;
  try {
    const edit = applyAssignments(dir, exp.assignments);
    for (const key of edit.added)
      r.sink({
        type: 'warning',
        message: `${key} was not in the params file: added it (experiment ${exp.name})`,
      });
    for (const file of edit.created)
      r.sink({
        type: 'warning',
        message: `${file} did not exist: created it (experiment ${exp.name})`,
      });
    const repro = await runPipelineIn({
      dir,
      env: s.temp ? { ...r.env, CAIRN_CACHE_DIR: r.cacheDir } : r.env,
      targets: exp.targets,
      sink: r.sink,
      ...(r.signal === undefined ? {} : { signal: r.signal }),
      jobs: s.jobs,
      force: false,
      noRunCache: s.noRunCache,
    });
    const base = {
      name: exp.name,
      baseline: exp.baseline,
      ref,
      assignments: exp.assignments,
      added: edit.added,
      stages: repro.stages,
    };
    if (repro.failed) return { ...base, failed: true, ms: Date.now() - started };
    const request = {
      baseline: exp.baseline,
      ref,
      hash: experimentHash(dir),
      force: s.force,
      env: r.env,
    };
    const commit = s.temp
      ? await commitWorktree({ ...request, dir })
      : await commitExperiment({
          ...request,
          tree: await snapshotWorkspace(r.root, r.tmpDir, r.env),
          cwd: r.root,
        });
    return { ...base, commit, failed: false, ms: Date.now() - started };
  } finally {
    if (s.temp) await removeWorktree(r.root, dir, r.env);
  }
}
