/**
 * `vars`: params files (whole, or `file:key1,key2`) and inline mappings merged into the
 * interpolation context, at the top of dvc.yaml and inside a stage.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, type Node } from '../core/yaml-lib.js';
import { toPosix } from '../core/fs.js';
import { Context, hasInterpolation, InterpolationError } from './interpolate.js';
import { lookupParam, readParamsFile } from './params.js';
import type { PipelineSource } from './source.js';
import { isValueMap, type Value, type ValueMap } from './values.js';

/** A context with params.yaml (when present) and the `vars` list merged in. */
export function loadVars(
  src: PipelineSource,
  ctx: Context,
  varsNode: Node | null | undefined,
  wdir: string,
  where: string,
): void {
  if (varsNode === null || varsNode === undefined) return;
  if (!isSeq(varsNode)) return src.fail(varsNode, '`vars` must be a list of files or mappings');
  varsNode.items.forEach((item, index) => {
    const n = item as Node | null;
    try {
      if (isScalar(n) && typeof n.value === 'string') {
        if (hasInterpolation(n.value)) src.fail(n, '`vars` may not use ${} interpolation');
        mergeFile(src, ctx, n.value, wdir, n);
      } else if (isMap(n)) {
        const value = src.resolve(n, new Context(), 'vars');
        if (!isValueMap(value)) return;
        ctx.merge(value, `${where}vars[${index}]`);
      } else {
        src.fail(n, 'each `vars` item must be a file name or a mapping');
      }
    } catch (error) {
      if (error instanceof InterpolationError) src.fail(n, error.message);
      throw error;
    }
  });
}

function mergeFile(
  src: PipelineSource,
  ctx: Context,
  item: string,
  wdir: string,
  node: Node | null,
): void {
  const [file, keysStr] = splitOnce(item, ':');
  const abs = path.resolve(wdir, file);
  const keys = keysStr === undefined ? null : keysStr.split(',').filter((k) => k !== '');
  const previous = src.imported.get(abs);
  if (previous !== undefined && previous === null && keys === null) return;
  const data = readParamsFile(abs);
  if (data === undefined) {
    return src.fail(node, `vars file '${file}' does not exist`, 'Create it or fix the path.');
  }
  let selected: ValueMap = data;
  if (keys !== null) {
    selected = {};
    for (const k of keys) {
      const v = lookupParam(data, k);
      if (v === undefined) return src.fail(node, `key '${k}' not found in '${file}'`);
      setDotted(selected, k, v);
    }
  }
  src.imported.set(abs, keys === null ? null : new Set(keys));
  ctx.merge(selected, toPosix(path.relative(src.dir, abs)));
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function setDotted(into: ValueMap, key: string, value: Value): void {
  const parts = key.split('.');
  let cur = into;
  parts.slice(0, -1).forEach((p) => {
    const next = cur[p];
    if (!isValueMap(next ?? null)) cur[p] = {};
    cur = cur[p] as ValueMap;
  });
  cur[parts[parts.length - 1] ?? key] = value;
}
