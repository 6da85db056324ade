import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CairnError } from '../core/errors.js';
import { buildGraph, closure, topoOrder } from './graph.js';
import { planStages } from './plan.js';
import type { Stage } from './stage.js';

const root = '/repo';
const pos = { file: 'dvc.yaml', line: 1, col: 1 };
function stage(name: string, deps: string[], outs: string[], frozen = false): Stage {
  return {
    name,
    group: undefined,
    address: name,
    dvcfile: path.join(root, 'dvc.yaml'),
    lockfile: path.join(root, 'dvc.lock'),
    wdir: root,
    cmd: `make ${name}`,
    deps: deps.map((d) => ({ path: d, abs: path.join(root, d), pos })),
    params: [],
    outs: outs.map((o) => ({
      path: o,
      abs: path.join(root, o),
      kind: 'outs' as const,
      cache: true,
      persist: false,
      push: true,
      flags: {},
      pos,
    })),
    frozen,
    alwaysChanged: false,
    desc: undefined,
    meta: undefined,
    pos,
  };
}
const names = (xs: Iterable<Stage>): string[] => [...xs].map((s) => s.name);

describe('the stage graph (DVC path-prefix edges)', () => {
  it('links a dep equal to, inside, or containing an output', () => {
    const a = stage('a', [], ['data/raw']);
    const b = stage('b', ['data/raw/part.csv'], ['feat']);
    const c = stage('c', ['data'], ['report']);
    const d = stage('d', ['feat', 'report'], ['final']);
    const g = buildGraph([d, c, b, a]);
    expect(names(g.upstream.get(b) ?? [])).toEqual(['a']);
    expect(names(g.upstream.get(c) ?? [])).toEqual(['a']);
    expect(names(topoOrder(g, new Set(g.stages)))).toEqual(['a', 'b', 'c', 'd']);
    expect(names(closure(g, [b], 'downstream')).sort()).toEqual(['b', 'd']);
  });

  it('cuts the upstream edges of frozen stages, and plans with -s, --downstream and -p', () => {
    const a = stage('a', [], ['x']);
    const b = stage('b', ['x'], ['y'], true);
    const c = stage('c', ['y'], ['z']);
    const lone = stage('lone', [], ['w']);
    const g = buildGraph([a, b, c, lone]);
    expect(
      names(
        planStages(g, [c], {
          single: false,
          downstream: false,
          pipeline: false,
          allPipelines: false,
        }),
      ),
    ).toEqual(['b', 'c']);
    expect(
      names(
        planStages(g, [c], {
          single: true,
          downstream: false,
          pipeline: false,
          allPipelines: false,
        }),
      ),
    ).toEqual(['c']);
    expect(
      names(
        planStages(g, [a], {
          single: false,
          downstream: true,
          pipeline: false,
          allPipelines: false,
        }),
      ),
    ).toEqual(['a']);
    expect(
      names(
        planStages(g, [b], {
          single: false,
          downstream: false,
          pipeline: true,
          allPipelines: false,
        }),
      ),
    ).toEqual(['b', 'c']);
    expect(
      names(
        planStages(g, [], {
          single: false,
          downstream: false,
          pipeline: false,
          allPipelines: false,
        }),
      ),
    ).toEqual(['a', 'b', 'c', 'lone']);
  });

  it('reports cycles with the loop of stages', () => {
    const err = (() => {
      try {
        buildGraph([stage('a', ['z'], ['x']), stage('b', ['x'], ['y']), stage('c', ['y'], ['z'])]);
      } catch (e) {
        return e as CairnError;
      }
      throw new Error('expected a cycle');
    })();
    expect(err.code).toBe('pipeline-cycle');
    expect(err.message).toContain("'a' -> 'b' -> 'c' -> 'a'");
  });

  it('refuses duplicate and overlapping outputs', () => {
    expect(() => buildGraph([stage('a', [], ['o']), stage('b', [], ['o'])])).toThrow(
      /specified in stages: 'a'/,
    );
    expect(() => buildGraph([stage('a', [], ['o']), stage('b', [], ['o/p'])])).toThrow(
      /is inside output 'o' of stage 'a'/,
    );
  });

  it('handles a 1,000-stage chain quickly', () => {
    const chain = Array.from({ length: 1000 }, (_, i) =>
      stage(`s${i + 1}`, [`f${i}`], [`f${i + 1}`]),
    );
    const started = performance.now();
    const g = buildGraph(chain);
    expect(topoOrder(g, new Set(g.stages))).toHaveLength(1000);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
