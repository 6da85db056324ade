/**
 * A stage's fields: the allowed keys, then each field resolved and checked in turn (`wdir`,
 * `vars`, `cmd`, `deps`, `params`; outputs in stage-outs.ts), every error at the offending node.
 */
import path from 'node:path';
import type { YAMLMap } from 'yaml';
import { isSeq, type Node } from '../core/yaml-lib.js';
import type { Context } from './interpolate.js';
import type { PipelineSource } from './source.js';
import type { Stage, StageParams } from './stage.js';
import { stageOut } from './stage-outs.js';
import { loadVars } from './vars.js';
import { isValueMap, pyStr } from './values.js';

export const DEFAULT_PARAMS_FILE = 'params.yaml';

const STAGE_KEYS = new Set([
  'cmd',
  'wdir',
  'deps',
  'params',
  'outs',
  'metrics',
  'plots',
  'frozen',
  'always_changed',
  'desc',
  'meta',
  'vars',
]);
/** One stage (`name`, or `group@key` from an expansion) read from its mapping; `skip` keys are the expansion's. */
export function readStage(
  src: PipelineSource,
  name: string,
  group: string | undefined,
  node: YAMLMap,
  outer: Context,
  keyNode: Node,
  skip = new Set<string>(),
): Stage {
  const fields = new Map<string, Node | null>();
  for (const pair of node.items) {
    const key = src.keyOf(pair);
    if (skip.has(key)) continue;
    if (!STAGE_KEYS.has(key)) {
      src.fail(
        pair.key as Node,
        `unknown key '${key}' in stage '${name}'`,
        `A stage allows ${[...STAGE_KEYS].join(', ')}.`,
      );
    }
    fields.set(key, pair.value as Node | null);
  }
  let ctx = outer;
  const baseWdir = src.dir;
  const wdirValue = src.resolve(fields.get('wdir'), ctx, 'wdir');
  if (wdirValue !== null && typeof wdirValue !== 'string') {
    src.fail(fields.get('wdir'), '`wdir` must be a path');
  }
  const wdir = path.resolve(baseWdir, typeof wdirValue === 'string' ? wdirValue : '.');
  if (fields.has('vars')) {
    ctx = outer.clone();
    loadVars(src, ctx, fields.get('vars'), wdir, `${name}.`);
  }
  const cmdNode = fields.get('cmd');
  if (!fields.has('cmd')) return src.fail(node, `stage '${name}' has no \`cmd\``);
  const cmd = src.resolve(cmdNode, ctx, 'cmd');
  const okCmd =
    (typeof cmd === 'string' && cmd !== '') ||
    (Array.isArray(cmd) && cmd.length > 0 && cmd.every((c) => typeof c === 'string'));
  if (!okCmd) src.fail(cmdNode, '`cmd` must be a string or a list of strings');

  const stage: Stage = {
    name,
    group,
    address: src.rel === 'dvc.yaml' ? name : `${src.rel}:${name}`,
    dvcfile: src.file,
    lockfile: path.join(src.dir, 'dvc.lock'),
    wdir,
    cmd: cmd,
    deps: [],
    params: [],
    outs: [],
    frozen: stageBool(src, fields, 'frozen', ctx),
    alwaysChanged: stageBool(src, fields, 'always_changed', ctx),
    desc: undefined,
    meta: undefined,
    pos: src.pos(keyNode),
  };
  const desc = src.resolve(fields.get('desc'), ctx, 'desc');
  if (desc !== null) stage.desc = pyStr(desc);
  if (fields.has('meta')) stage.meta = src.resolve(fields.get('meta'), ctx, 'meta');

  for (const item of nodeList(src, fields.get('deps'), 'deps')) {
    const v = src.resolve(item, ctx, 'deps');
    if (typeof v !== 'string' || v === '') src.fail(item, 'each dep must be a path');
    stage.deps.push({
      path: v,
      abs: path.resolve(wdir, v),
      pos: src.pos(item),
    });
  }
  stage.params = stageParams(src, fields.get('params'), ctx, wdir);
  for (const kind of ['outs', 'metrics', 'plots'] as const) {
    for (const item of nodeList(src, fields.get(kind), kind))
      stage.outs.push(stageOut(src, item, ctx, wdir, kind));
  }
  return stage;
}

function stageBool(
  src: PipelineSource,
  fields: Map<string, Node | null>,
  key: string,
  ctx: Context,
): boolean {
  if (!fields.has(key)) return false;
  const v = src.resolve(fields.get(key), ctx, key);
  if (typeof v !== 'boolean') return src.fail(fields.get(key), `\`${key}\` must be true or false`);
  return v;
}

function nodeList(
  src: PipelineSource,
  node: Node | null | undefined,
  key: string,
): (Node | null)[] {
  if (node === null || node === undefined) return [];
  if (!isSeq(node)) return src.fail(node, `\`${key}\` must be a list`);
  return node.items as (Node | null)[];
}

function stageParams(
  src: PipelineSource,
  node: Node | null | undefined,
  ctx: Context,
  wdir: string,
): StageParams[] {
  const byFile = new Map<string, StageParams>();
  const add = (file: string, keys: string[] | null, at: Node | null): void => {
    const known = byFile.get(file);
    if (known === undefined) {
      byFile.set(file, { path: file, abs: path.resolve(wdir, file), keys, pos: src.pos(at) });
    } else if (keys === null || known.keys === null) {
      known.keys = null;
    } else {
      for (const k of keys) if (!known.keys.includes(k)) known.keys.push(k);
    }
  };
  for (const item of nodeList(src, node, 'params')) {
    const v = src.resolve(item, ctx, 'params');
    if (typeof v === 'string') {
      add(DEFAULT_PARAMS_FILE, [v], item);
    } else if (isValueMap(v)) {
      for (const [file, keys] of Object.entries(v)) {
        if (keys === null || (Array.isArray(keys) && keys.length === 0)) add(file, null, item);
        else if (Array.isArray(keys) && keys.every((k) => typeof k === 'string'))
          add(file, keys, item);
        else src.fail(item, `params of '${file}' must be a list of keys (or empty for all)`);
      }
    } else {
      src.fail(item, 'each params item must be a key or {file: [keys]}');
    }
  }
  // A file tracked whole makes bare keys for it redundant (DVC ignores them).
  return [...byFile.values()];
}
