/**
 * A stage's outputs (`outs`, `metrics`, `plots`): a path, or `{path: {flags}}` with the cache,
 * persist and push switches and the flags DVC keeps (plots take their rendering flags too).
 */
import path from 'node:path';
import type { Node } from '../core/yaml-lib.js';
import type { Context } from './interpolate.js';
import type { PipelineSource } from './source.js';
import type { OutKind, StageOut } from './stage.js';
import { isValueMap, type ValueMap } from './values.js';

const OUT_FLAGS = new Set([
  'cache',
  'persist',
  'push',
  'remote',
  'desc',
  'type',
  'labels',
  'meta',
  'checkpoint',
]);
const PLOT_FLAGS = new Set(['template', 'x', 'y', 'x_label', 'y_label', 'title', 'header']);

export function stageOut(
  src: PipelineSource,
  item: Node | null,
  ctx: Context,
  wdir: string,
  kind: OutKind,
): StageOut {
  const v = src.resolve(item, ctx, kind);
  let p: string;
  let flags: ValueMap = {};
  if (typeof v === 'string') {
    p = v;
  } else if (isValueMap(v) && Object.keys(v).length === 1) {
    p = Object.keys(v)[0] ?? '';
    const f = v[p];
    if (f !== null && f !== undefined && !isValueMap(f)) {
      src.fail(item, `flags of '${p}' must be a mapping such as {cache: false}`);
    }
    flags = f ?? {};
  } else {
    return src.fail(item, `each ${kind} item must be a path or {path: {flags}}`);
  }
  if (p === '') src.fail(item, 'empty output path');
  const out: StageOut = {
    path: p,
    abs: path.resolve(wdir, p),
    kind,
    cache: true,
    persist: false,
    push: true,
    flags: {},
    pos: src.pos(item),
  };
  for (const [k, x] of Object.entries(flags)) {
    if (k === 'cache' || k === 'persist' || k === 'push') {
      if (typeof x !== 'boolean') src.fail(item, `\`${k}\` of '${p}' must be true or false`);
      out[k] = x;
    } else if (OUT_FLAGS.has(k) || (kind === 'plots' && PLOT_FLAGS.has(k))) {
      out.flags[k] = x;
    } else {
      src.fail(item, `unknown flag '${k}' for ${kind} '${p}'`);
    }
  }
  return out;
}
