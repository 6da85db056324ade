/** The resolved shape of a dvc.yaml stage, after templating: what the graph and executor use. */
import type { Pos, Value, ValueMap } from './values.js';

export type OutKind = 'outs' | 'metrics' | 'plots';

export interface StageOut {
  /** as written, relative to the stage's wdir, POSIX */
  path: string;
  /** absolute */
  abs: string;
  kind: OutKind;
  cache: boolean;
  persist: boolean;
  push: boolean;
  /** the other flags as written (remote, desc, type, labels, meta, plot properties) */
  flags: ValueMap;
  pos: Pos;
}

export interface StageDep {
  /** as written, relative to the stage's wdir */
  path: string;
  abs: string;
  pos: Pos;
}

export interface StageParams {
  /** as written in dvc.lock: relative to the stage's wdir */
  path: string;
  abs: string;
  /** null: the whole file is tracked */
  keys: string[] | null;
  pos: Pos;
}

export interface Stage {
  /** name inside its dvc.yaml: `train`, `build@win-3.7` */
  name: string;
  /** the foreach/matrix group it was generated from */
  group: string | undefined;
  /** how users and status name it: `train` in the root dvc.yaml, else `sub/dvc.yaml:train` */
  address: string;
  /** absolute path of its dvc.yaml */
  dvcfile: string;
  /** absolute path of the dvc.lock beside it */
  lockfile: string;
  /** absolute */
  wdir: string;
  cmd: string | string[];
  deps: StageDep[];
  params: StageParams[];
  /** outs, metrics and plots in the order written */
  outs: StageOut[];
  frozen: boolean;
  alwaysChanged: boolean;
  desc: string | undefined;
  meta: Value | undefined;
  pos: Pos;
}

/**
 * The commands a stage runs, each in its own shell, as DVC's `_enforce_cmd_list`: a list as it
 * is, a string split into lines (empty lines, which succeed trivially, are dropped).
 */
export function commandLines(cmd: string | string[]): string[] {
  if (typeof cmd !== 'string') return cmd;
  return cmd.split(/\r\n|\n|\r/).filter((l) => l !== '');
}

/** A stage with a cmd but no deps and no outs always runs (DVC's "callback" stage). */
export function isCallback(stage: Stage): boolean {
  return stage.deps.length === 0 && stage.params.length === 0 && stage.outs.length === 0;
}
