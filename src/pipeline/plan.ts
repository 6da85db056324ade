/** Which stages `repro` considers, and in what order, from its targets and flags (DVC's rules). */
import { closure, component, topoOrder, type Graph } from './graph.js';
import type { Stage } from './stage.js';

export interface PlanOptions {
  /** -s: only the targets, no dependency walk */
  single: boolean;
  /** --downstream: the targets and what depends on them */
  downstream: boolean;
  /** -p: the whole pipeline (connected component) of each target */
  pipeline: boolean;
  /** -P: every stage */
  allPipelines: boolean;
}

/** Stages in dependency order; with no targets, every stage. */
export function planStages(graph: Graph, targets: readonly Stage[], options: PlanOptions): Stage[] {
  const roots = targets.length === 0 || options.allPipelines ? graph.stages : targets;
  let subset: Set<Stage>;
  if (options.allPipelines) subset = new Set(graph.stages);
  else if (options.pipeline) subset = component(graph, roots);
  else if (options.single) subset = new Set(roots);
  else if (options.downstream) subset = closure(graph, roots, 'downstream');
  else subset = closure(graph, roots, 'upstream');
  return topoOrder(graph, subset);
}
