/** Renderings of the stage graph for `cairn dag`: text, Graphviz dot and Mermaid (as DVC's). */
import { topoOrder, type Graph } from './graph.js';
import type { Stage } from './stage.js';

export type DagFormat = 'text' | 'dot' | 'mermaid' | 'json';

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

export function renderDag(view: DagView, format: Exclude<DagFormat, 'json'>): string {
  switch (format) {
    case 'dot':
      return [
        'strict digraph  {',
        ...view.nodes.map((n) => `${JSON.stringify(n)};`),
        ...view.edges.map(([a, b]) => `${JSON.stringify(a)} -> ${JSON.stringify(b)};`),
        '}',
      ].join('\n');
    case 'mermaid': {
      const id = new Map(view.nodes.map((n, i) => [n, `node${i + 1}`]));
      return [
        'flowchart TD',
        ...view.nodes.map((n) => `\t${id.get(n) ?? ''}["${n.replaceAll('"', '#quot;')}"]`),
        ...view.edges.map(([a, b]) => `\t${id.get(a) ?? ''}-->${id.get(b) ?? ''}`),
      ].join('\n');
    }
    case 'text': {
      const ups = new Map<string, string[]>();
      for (const [a, b] of view.edges) ups.set(b, [...(ups.get(b) ?? []), a]);
      const width = Math.max(0, ...view.nodes.map((n) => n.length));
      return view.nodes
        .map((n) => {
          const from = ups.get(n);
          return from === undefined ? n : `${n.padEnd(width)}  <- ${from.join(', ')}`;
        })
        .join('\n');
    }
    default:
      return unreachableFormat(format);
  }
}

function unreachableFormat(f: never): never {
  throw new Error(`Internal error: unknown format ${String(f)}`);
}
