/**
 * `foreach`/`do` and `matrix`: one stage definition expanded into the stages `name@key`, each
 * with `item` (and `key`) reserved in its context.
 */
import type { YAMLMap } from 'yaml';
import { isMap, isScalar, type Node } from '../core/yaml-lib.js';
import type { Context } from './interpolate.js';
import type { PipelineSource } from './source.js';
import type { Stage } from './stage.js';
import { readStage } from './stage-fields.js';
import { isValueMap, pyStr, type Value, type ValueMap } from './values.js';

/** The stages one definition under `stages:` stands for: itself, or its foreach/matrix expansion. */
export function expandStage(
  src: PipelineSource,
  name: string,
  node: YAMLMap,
  ctx: Context,
  keyNode: Node,
): Stage[] {
  const field = (key: string): Node | null | undefined =>
    (node.items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
      Node | null | undefined;
  const has = (key: string): boolean =>
    node.items.some((p) => isScalar(p.key) && p.key.value === key);
  if (has('foreach')) {
    const doNode = field('do');
    if (!isMap(doNode)) return src.fail(node, `foreach stage '${name}' needs a \`do\` mapping`);
    const items = src.resolve(field('foreach'), ctx, 'foreach');
    const entries: [string, Value, boolean][] = [];
    if (Array.isArray(items)) {
      const scalars = items.every((i) => !Array.isArray(i) && !isValueMap(i));
      items.forEach((item, i) => entries.push([scalars ? pyStr(item) : String(i), item, false]));
    } else if (isValueMap(items)) {
      for (const [k, v] of Object.entries(items)) entries.push([k, v, true]);
    } else {
      return src.fail(field('foreach'), '`foreach` must be a list, a mapping or ${} of one');
    }
    return entries.map(([key, item, withKey]) => {
      const c = withReserved(src, ctx, field('foreach'), withKey ? { item, key } : { item });
      return readStage(src, `${name}@${key}`, name, doNode, c, keyNode);
    });
  }
  if (has('matrix')) {
    const m = field('matrix');
    if (!isMap(m)) return src.fail(m, '`matrix` must map names to lists');
    const dims: { name: string; values: Value[] }[] = [];
    for (const pair of m.items) {
      const values = src.resolve(pair.value as Node, ctx, 'matrix');
      if (!Array.isArray(values)) {
        src.fail(pair.value as Node, `matrix '${src.keyOf(pair)}' must be a list`);
      }
      dims.push({ name: src.keyOf(pair), values: values });
    }
    let combos: { item: ValueMap; parts: string[] }[] = [{ item: {}, parts: [] }];
    for (const dim of dims) {
      combos = combos.flatMap((c) =>
        dim.values.map((v, i) => ({
          item: { ...c.item, [dim.name]: v },
          parts: [...c.parts, Array.isArray(v) || isValueMap(v) ? `${dim.name}${i}` : pyStr(v)],
        })),
      );
    }
    return combos.map((c) => {
      const key = c.parts.join('-');
      const cx = withReserved(src, ctx, m, { item: c.item, key });
      return readStage(src, `${name}@${key}`, name, node, cx, keyNode, new Set(['matrix']));
    });
  }
  return [readStage(src, name, undefined, node, ctx, keyNode)];
}

function withReserved(
  src: PipelineSource,
  ctx: Context,
  node: Node | null | undefined,
  values: ValueMap,
): Context {
  for (const k of Object.keys(values)) {
    if (k in ctx.data) {
      src.fail(node, `attempted to redefine '${k}': it is reserved inside foreach and matrix`);
    }
  }
  const c = ctx.clone();
  c.merge(values, 'foreach');
  return c;
}
