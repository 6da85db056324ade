/**
 * The stage graph, with DVC's edge rule (a dep equal to, inside, or containing another stage's
 * output) and its checks: duplicate outputs, outputs inside outputs, a dvc.yaml inside an
 * output, and cycles (shown as the loop of stages).
 */
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import type { Stage, StageOut } from './stage.js';
import type { Pos } from './values.js';

export interface Graph {
  /** in declaration order */
  readonly stages: readonly Stage[];
  /** stage → the stages that produce its deps (frozen stages have none: their edges are cut) */
  readonly upstream: ReadonlyMap<Stage, ReadonlySet<Stage>>;
  /** stage → the stages that use its outputs (through the same cut edges) */
  readonly downstream: ReadonlyMap<Stage, ReadonlySet<Stage>>;
  /** every edge, including those of frozen stages, for display */
  readonly allUpstream: ReadonlyMap<Stage, ReadonlySet<Stage>>;
}

const at = (p: Pos): string => `${p.file}:${p.line}:${p.col}`;

export function buildGraph(stages: readonly Stage[]): Graph {
  const byOut = new Map<string, { stage: Stage; out: StageOut }>();
  for (const stage of stages) {
    for (const out of stage.outs) {
      const other = byOut.get(out.abs);
      if (other !== undefined) {
        throw new CairnError(
          'output-duplicated',
          `output '${out.path}' is specified in stages: '${other.stage.address}' (${at(other.out.pos)}) and '${stage.address}' (${at(out.pos)})`,
          { hint: 'Each path can be produced by one stage only: rename or remove one of them.' },
        );
      }
      byOut.set(out.abs, { stage, out });
    }
  }
  const sortedOuts = [...byOut.keys()].sort();
  const ancestorsIn = (p: string): { stage: Stage; out: StageOut } | undefined => {
    let dir = path.dirname(p);
    for (;;) {
      const hit = byOut.get(dir);
      if (hit !== undefined) return hit;
      const parent = path.dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  };
  const under = (dir: string): string[] => {
    const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
    let lo = 0;
    let hi = sortedOuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sortedOuts[mid] ?? '') < prefix) lo = mid + 1;
      else hi = mid;
    }
    const found: string[] = [];
    for (let i = lo; i < sortedOuts.length && (sortedOuts[i] ?? '').startsWith(prefix); i++)
      found.push(sortedOuts[i] ?? '');
    return found;
  };

  for (const [abs, { stage, out }] of byOut) {
    const parent = ancestorsIn(abs);
    if (parent !== undefined) {
      throw new CairnError(
        'output-overlap',
        `output '${out.path}' of stage '${stage.address}' (${at(out.pos)}) is inside output '${parent.out.path}' of stage '${parent.stage.address}' (${at(parent.out.pos)})`,
        { hint: 'An output may not sit inside another output: track the parent folder only.' },
      );
    }
  }
  for (const stage of stages) {
    const owner = byOut.get(stage.dvcfile) ?? ancestorsIn(stage.dvcfile);
    if (owner !== undefined) {
      throw new CairnError(
        'dvcfile-in-output',
        `${stage.pos.file} lies inside output '${owner.out.path}' of stage '${owner.stage.address}'`,
        { hint: 'Move the dvc.yaml out of the output folder.' },
      );
    }
  }

  const allUpstream = new Map<Stage, Set<Stage>>();
  for (const stage of stages) {
    const ups = new Set<Stage>();
    for (const dep of [...stage.deps.map((d) => d.abs), ...stage.params.map((p) => p.abs)]) {
      const exact = byOut.get(dep) ?? ancestorsIn(dep);
      if (exact !== undefined) ups.add(exact.stage);
      for (const o of under(dep)) {
        const hit = byOut.get(o);
        if (hit !== undefined) ups.add(hit.stage);
      }
    }
    allUpstream.set(stage, ups);
  }
  const upstream = new Map<Stage, Set<Stage>>();
  const downstream = new Map<Stage, Set<Stage>>(stages.map((s) => [s, new Set<Stage>()]));
  for (const stage of stages) {
    const ups = stage.frozen ? new Set<Stage>() : (allUpstream.get(stage) ?? new Set<Stage>());
    upstream.set(stage, ups);
    for (const u of ups) downstream.get(u)?.add(stage);
  }
  checkAcyclic(stages, allUpstream);
  return { stages, upstream, downstream, allUpstream };
}

function checkAcyclic(
  stages: readonly Stage[],
  upstream: ReadonlyMap<Stage, ReadonlySet<Stage>>,
): void {
  const state = new Map<Stage, 1 | 2>();
  const stack: Stage[] = [];
  const visit = (s: Stage): void => {
    state.set(s, 1);
    stack.push(s);
    for (const u of upstream.get(s) ?? []) {
      const st = state.get(u);
      if (st === 1) {
        const loop = [...stack.slice(stack.indexOf(u)), u].reverse();
        throw new CairnError(
          'pipeline-cycle',
          `the pipeline has a cycle: ${loop.map((x) => `'${x.address}'`).join(' -> ')} (each uses an output of the one before; ${loop
            .slice(0, -1)
            .map((x) => `${x.address} at ${at(x.pos)}`)
            .join(', ')})`,
          { hint: 'Break the loop: a stage may not depend, directly or not, on its own outputs.' },
        );
      }
      if (st === undefined) visit(u);
    }
    stack.pop();
    state.set(s, 2);
  };
  for (const s of stages) if (!state.has(s)) visit(s);
}

/** Dependencies first, otherwise declaration order (DFS post-order, as DVC plans). */
export function topoOrder(graph: Graph, subset: ReadonlySet<Stage>): Stage[] {
  const order: Stage[] = [];
  const seen = new Set<Stage>();
  const visit = (s: Stage): void => {
    if (seen.has(s)) return;
    seen.add(s);
    for (const u of graph.upstream.get(s) ?? []) if (subset.has(u)) visit(u);
    order.push(s);
  };
  for (const s of graph.stages) if (subset.has(s)) visit(s);
  return order;
}

/** The stage and everything it depends on (or, downstream, everything depending on it). */
export function closure(
  graph: Graph,
  roots: Iterable<Stage>,
  direction: 'upstream' | 'downstream',
): Set<Stage> {
  const edges = direction === 'upstream' ? graph.upstream : graph.downstream;
  const seen = new Set<Stage>();
  const stack = [...roots];
  while (stack.length > 0) {
    const s = stack.pop();
    if (s === undefined || seen.has(s)) continue;
    seen.add(s);
    for (const n of edges.get(s) ?? []) stack.push(n);
  }
  return seen;
}

/** The weakly connected component of each root (`repro -p`). */
export function component(graph: Graph, roots: Iterable<Stage>): Set<Stage> {
  const seen = new Set<Stage>();
  const stack = [...roots];
  while (stack.length > 0) {
    const s = stack.pop();
    if (s === undefined || seen.has(s)) continue;
    seen.add(s);
    for (const n of graph.upstream.get(s) ?? []) stack.push(n);
    for (const n of graph.downstream.get(s) ?? []) stack.push(n);
  }
  return seen;
}
