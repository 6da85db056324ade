/** The stage graph for `cairn dag`: nodes in dependency order and their edges (src/cli/pipeline.ts renders it). */
import { topoOrder, type Graph } from './graph.js';
import type { Stage } from './stage.js';

export interface DagView {
  /** stage addresses in dependency order */
  nodes: string[];
  /** [upstream, downstream] */
  edges: [string, string][];
}

export function dagView(graph: Graph, subset: ReadonlySet<Stage>): DagView {
  const nodes = topoOrder(graph, subset);
  const edges: [string, string][] = [];
  for (const s of nodes) {
    for (const u of graph.allUpstream.get(s) ?? []) {
      if (subset.has(u)) edges.push([u.address, s.address]);
    }
  }
  return { nodes: nodes.map((s) => s.address), edges };
}
