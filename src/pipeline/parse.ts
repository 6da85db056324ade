/**
 * dvc.yaml read with positions and resolved into {@link Stage}s: `vars`, `foreach`/`do`,
 * `matrix` and `${}` are applied while walking the YAML nodes, so every error points at
 * dvc.yaml:line:col.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pair, YAMLMap } from 'yaml';
import {
  isMap,
  isScalar,
  isSeq,
  newLineCounter,
  parseDocument,
  type Node,
  yamlMessage,
} from '../core/yaml-lib.js';
import { ManifestError } from '../core/errors.js';
import { toPosix } from '../core/fs.js';
import { YamlFloat } from '../core/ruamel-yaml.js';
import {
  Context,
  DEFAULT_FLAGS,
  hasInterpolation,
  interpolate,
  InterpolationError,
  type FlagConfig,
} from './interpolate.js';
import { lookupParam, readParamsFile } from './params.js';
import type { OutKind, Stage, StageOut, StageParams } from './stage.js';
import { isValueMap, pyStr, type Pos, type Value, type ValueMap } from './values.js';

export const DEFAULT_PARAMS_FILE = 'params.yaml';

export interface Pipeline {
  /** absolute path of the dvc.yaml */
  file: string;
  stages: Stage[];
  /** top-level `params` files */
  params: string[];
  metrics: string[];
  plots: Value[];
  artifacts: ValueMap;
}

const TOP_KEYS = new Set(['stages', 'vars', 'params', 'metrics', 'plots', 'artifacts', 'datasets']);
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
const BAD_NAME = /[:/\\@]/;

export interface ParseOptions {
  /** the repository root, for stage addresses */
  root: string;
  flags?: FlagConfig;
}

export function readPipeline(file: string, options: ParseOptions): Pipeline {
  return parsePipeline(file, fs.readFileSync(file, 'utf8'), options);
}

class Parser {
  readonly lines = newLineCounter();
  readonly dir: string;
  readonly flags: FlagConfig;
  readonly rel: string;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly root: string,
    flags: FlagConfig,
  ) {
    this.dir = path.dirname(file);
    this.flags = flags;
    this.rel = toPosix(path.relative(root, file));
  }

  pos(node: Node | null | undefined, offset = 0): Pos {
    const p = this.lines.linePos((node?.range?.[0] ?? 0) + offset);
    return { file: this.rel, line: p.line, col: p.col };
  }

  fail(node: Node | null | undefined, message: string, hint?: string, offset = 0): never {
    const p = this.pos(node, offset);
    throw new ManifestError(this.rel, p.line, p.col, message, hint === undefined ? {} : { hint });
  }

  /** Interpolates every string below `node`; `field` is the stage key it belongs to. */
  resolve(node: Node | null | undefined, ctx: Context, field: string): Value {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'string') {
        try {
          return interpolate(v, ctx, field, this.flags);
        } catch (error) {
          if (!(error instanceof InterpolationError)) throw error;
          const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
          const singleLine = !v.includes('\n') && node.type !== 'BLOCK_LITERAL';
          return this.fail(
            node,
            `${error.message} (in stage field '${field}')`,
            'Define the variable in params.yaml or `vars`, or escape it as \\${…}.',
            singleLine && node.type !== 'BLOCK_FOLDED' ? error.offset + quoted : 0,
          );
        }
      }
      if (typeof v === 'number') {
        const src = this.text.slice(node.range?.[0] ?? 0, node.range?.[1] ?? 0);
        return /[.eE]|inf|nan/i.test(src) || !Number.isInteger(v) ? new YamlFloat(v) : v;
      }
      if (v === null || typeof v === 'boolean') return v;
      return typeof v === 'bigint' ? Number(v) : JSON.stringify(v);
    }
    if (isSeq(node)) return node.items.map((n) => this.resolve(n as Node | null, ctx, field));
    if (isMap(node)) {
      const out: ValueMap = {};
      for (const pair of node.items)
        out[this.keyOf(pair)] = this.resolve(pair.value as Node, ctx, field);
      return out;
    }
    return this.fail(node, 'anchors and aliases are not supported in dvc.yaml');
  }

  keyOf(pair: Pair): string {
    if (!isScalar(pair.key)) return this.fail(pair.key as Node, 'keys must be plain strings');
    return String(pair.key.value);
  }

  /** A context with params.yaml (when present) and the `vars` list merged in. */
  loadVars(ctx: Context, varsNode: Node | null | undefined, wdir: string, where: string): void {
    if (varsNode === null || varsNode === undefined) return;
    if (!isSeq(varsNode)) return this.fail(varsNode, '`vars` must be a list of files or mappings');
    varsNode.items.forEach((item, index) => {
      const n = item as Node | null;
      try {
        if (isScalar(n) && typeof n.value === 'string') {
          if (hasInterpolation(n.value)) this.fail(n, '`vars` may not use ${} interpolation');
          this.mergeFile(ctx, n.value, wdir, n);
        } else if (isMap(n)) {
          const value = this.resolve(n, new Context(), 'vars');
          if (!isValueMap(value)) return;
          ctx.merge(value, `${where}vars[${index}]`);
        } else {
          this.fail(n, 'each `vars` item must be a file name or a mapping');
        }
      } catch (error) {
        if (error instanceof InterpolationError) this.fail(n, error.message);
        throw error;
      }
    });
  }

  readonly imported = new Map<string, Set<string> | null>();

  mergeFile(ctx: Context, item: string, wdir: string, node: Node | null): void {
    const [file, keysStr] = splitOnce(item, ':');
    const abs = path.resolve(wdir, file);
    const keys = keysStr === undefined ? null : keysStr.split(',').filter((k) => k !== '');
    const previous = this.imported.get(abs);
    if (previous !== undefined && previous === null && keys === null) return;
    const data = readParamsFile(abs);
    if (data === undefined) {
      return this.fail(node, `vars file '${file}' does not exist`, 'Create it or fix the path.');
    }
    let selected: ValueMap = data;
    if (keys !== null) {
      selected = {};
      for (const k of keys) {
        const v = lookupParam(data, k);
        if (v === undefined) return this.fail(node, `key '${k}' not found in '${file}'`);
        setDotted(selected, k, v);
      }
    }
    this.imported.set(abs, keys === null ? null : new Set(keys));
    ctx.merge(selected, toPosix(path.relative(this.dir, abs)));
  }

  parse(): Pipeline {
    const doc = parseDocument(this.text, { lineCounter: this.lines, uniqueKeys: true });
    const err = doc.errors[0];
    if (err !== undefined) {
      const p = this.lines.linePos(err.pos[0]);
      throw new ManifestError(this.rel, p.line, p.col, yamlMessage(err.message));
    }
    const rootNode = doc.contents as Node | null;
    const pipeline: Pipeline = {
      file: this.file,
      stages: [],
      params: [],
      metrics: [],
      plots: [],
      artifacts: {},
    };
    if (rootNode === null) return pipeline;
    if (!isMap(rootNode)) return this.fail(rootNode, 'dvc.yaml must be a mapping with `stages:`');
    const get = (key: string): Node | null | undefined =>
      (rootNode.items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
        Node | null | undefined;
    for (const pair of rootNode.items) {
      const key = this.keyOf(pair);
      if (!TOP_KEYS.has(key)) {
        this.fail(
          pair.key as Node,
          `unknown top-level key '${key}'`,
          `dvc.yaml allows ${[...TOP_KEYS].join(', ')}.`,
        );
      }
    }
    const ctx = new Context();
    const defaultParams = path.join(this.dir, DEFAULT_PARAMS_FILE);
    try {
      const data = readParamsFile(defaultParams);
      if (data !== undefined) {
        ctx.merge(data, DEFAULT_PARAMS_FILE);
        this.imported.set(defaultParams, null);
      }
    } catch (error) {
      if (!(error instanceof InterpolationError)) throw error;
    }
    this.loadVars(ctx, get('vars'), this.dir, '');

    for (const key of ['params', 'metrics'] as const) {
      const v = this.resolve(get(key), ctx, key);
      if (v === null) continue;
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
        this.fail(get(key), `\`${key}\` must be a list of file paths`);
      pipeline[key] = v;
    }
    const plots = this.resolve(get('plots'), ctx, 'plots');
    if (plots !== null) {
      if (!Array.isArray(plots)) this.fail(get('plots'), '`plots` must be a list');
      pipeline.plots = plots;
    }
    const artifacts = this.resolve(get('artifacts'), ctx, 'artifacts');
    if (artifacts !== null) {
      if (!isValueMap(artifacts)) this.fail(get('artifacts'), '`artifacts` must be a mapping');
      pipeline.artifacts = artifacts;
    }

    const stagesNode = get('stages');
    if (stagesNode === null || stagesNode === undefined) return pipeline;
    if (!isMap(stagesNode)) return this.fail(stagesNode, '`stages` must be a mapping of names');
    for (const pair of stagesNode.items) {
      const name = this.keyOf(pair);
      if (BAD_NAME.test(name) || name === '') {
        this.fail(pair.key as Node, `invalid stage name '${name}': it may not contain : / \\ @`);
      }
      const node = pair.value as Node | null;
      if (!isMap(node)) {
        this.fail(node ?? (pair.key as Node), `stage '${name}' must be a mapping with a \`cmd\``);
      }
      pipeline.stages.push(...this.expand(name, node, ctx, pair.key as Node));
    }
    return pipeline;
  }

  expand(name: string, node: YAMLMap, ctx: Context, keyNode: Node): Stage[] {
    const field = (key: string): Node | null | undefined =>
      (node.items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
        Node | null | undefined;
    const has = (key: string): boolean =>
      node.items.some((p) => isScalar(p.key) && p.key.value === key);
    if (has('foreach')) {
      const doNode = field('do');
      if (!isMap(doNode)) return this.fail(node, `foreach stage '${name}' needs a \`do\` mapping`);
      const items = this.resolve(field('foreach'), ctx, 'foreach');
      const entries: [string, Value, boolean][] = [];
      if (Array.isArray(items)) {
        const scalars = items.every((i) => !Array.isArray(i) && !isValueMap(i));
        items.forEach((item, i) => entries.push([scalars ? pyStr(item) : String(i), item, false]));
      } else if (isValueMap(items)) {
        for (const [k, v] of Object.entries(items)) entries.push([k, v, true]);
      } else {
        return this.fail(field('foreach'), '`foreach` must be a list, a mapping or ${} of one');
      }
      return entries.map(([key, item, withKey]) => {
        const c = this.withReserved(ctx, field('foreach'), withKey ? { item, key } : { item });
        return this.stage(`${name}@${key}`, name, doNode, c, keyNode);
      });
    }
    if (has('matrix')) {
      const m = field('matrix');
      if (!isMap(m)) return this.fail(m, '`matrix` must map names to lists');
      const dims: { name: string; values: Value[] }[] = [];
      for (const pair of m.items) {
        const values = this.resolve(pair.value as Node, ctx, 'matrix');
        if (!Array.isArray(values)) {
          this.fail(pair.value as Node, `matrix '${this.keyOf(pair)}' must be a list`);
        }
        dims.push({ name: this.keyOf(pair), values: values });
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
        const cx = this.withReserved(ctx, m, { item: c.item, key });
        return this.stage(`${name}@${key}`, name, node, cx, keyNode, new Set(['matrix']));
      });
    }
    return [this.stage(name, undefined, node, ctx, keyNode)];
  }

  withReserved(ctx: Context, node: Node | null | undefined, values: ValueMap): Context {
    for (const k of Object.keys(values)) {
      if (k in ctx.data) {
        this.fail(node, `attempted to redefine '${k}': it is reserved inside foreach and matrix`);
      }
    }
    const c = ctx.clone();
    c.merge(values, 'foreach');
    return c;
  }

  stage(
    name: string,
    group: string | undefined,
    node: YAMLMap,
    outer: Context,
    keyNode: Node,
    skip = new Set<string>(),
  ): Stage {
    const fields = new Map<string, Node | null>();
    for (const pair of node.items) {
      const key = this.keyOf(pair);
      if (skip.has(key)) continue;
      if (!STAGE_KEYS.has(key)) {
        this.fail(
          pair.key as Node,
          `unknown key '${key}' in stage '${name}'`,
          `A stage allows ${[...STAGE_KEYS].join(', ')}.`,
        );
      }
      fields.set(key, pair.value as Node | null);
    }
    let ctx = outer;
    const baseWdir = this.dir;
    const wdirValue = this.resolve(fields.get('wdir'), ctx, 'wdir');
    if (wdirValue !== null && typeof wdirValue !== 'string') {
      this.fail(fields.get('wdir'), '`wdir` must be a path');
    }
    const wdir = path.resolve(baseWdir, typeof wdirValue === 'string' ? wdirValue : '.');
    if (fields.has('vars')) {
      ctx = outer.clone();
      this.loadVars(ctx, fields.get('vars'), wdir, `${name}.`);
    }
    const cmdNode = fields.get('cmd');
    if (!fields.has('cmd')) return this.fail(node, `stage '${name}' has no \`cmd\``);
    const cmd = this.resolve(cmdNode, ctx, 'cmd');
    const okCmd =
      (typeof cmd === 'string' && cmd !== '') ||
      (Array.isArray(cmd) && cmd.length > 0 && cmd.every((c) => typeof c === 'string'));
    if (!okCmd) this.fail(cmdNode, '`cmd` must be a string or a list of strings');

    const stage: Stage = {
      name,
      group,
      address: this.rel === 'dvc.yaml' ? name : `${this.rel}:${name}`,
      dvcfile: this.file,
      lockfile: path.join(this.dir, 'dvc.lock'),
      wdir,
      cmd: cmd,
      deps: [],
      params: [],
      outs: [],
      frozen: this.bool(fields, 'frozen', ctx),
      alwaysChanged: this.bool(fields, 'always_changed', ctx),
      desc: undefined,
      meta: undefined,
      pos: this.pos(keyNode),
    };
    const desc = this.resolve(fields.get('desc'), ctx, 'desc');
    if (desc !== null) stage.desc = pyStr(desc);
    if (fields.has('meta')) stage.meta = this.resolve(fields.get('meta'), ctx, 'meta');

    for (const item of this.list(fields.get('deps'), 'deps')) {
      const v = this.resolve(item, ctx, 'deps');
      if (typeof v !== 'string' || v === '') this.fail(item, 'each dep must be a path');
      stage.deps.push({
        path: v,
        abs: path.resolve(wdir, v),
        pos: this.pos(item),
      });
    }
    stage.params = this.params(fields.get('params'), ctx, wdir);
    for (const kind of ['outs', 'metrics', 'plots'] as const) {
      for (const item of this.list(fields.get(kind), kind))
        stage.outs.push(this.out(item, ctx, wdir, kind));
    }
    return stage;
  }

  bool(fields: Map<string, Node | null>, key: string, ctx: Context): boolean {
    if (!fields.has(key)) return false;
    const v = this.resolve(fields.get(key), ctx, key);
    if (typeof v !== 'boolean')
      return this.fail(fields.get(key), `\`${key}\` must be true or false`);
    return v;
  }

  list(node: Node | null | undefined, key: string): (Node | null)[] {
    if (node === null || node === undefined) return [];
    if (!isSeq(node)) return this.fail(node, `\`${key}\` must be a list`);
    return node.items as (Node | null)[];
  }

  params(node: Node | null | undefined, ctx: Context, wdir: string): StageParams[] {
    const byFile = new Map<string, StageParams>();
    const add = (file: string, keys: string[] | null, at: Node | null): void => {
      const known = byFile.get(file);
      if (known === undefined) {
        byFile.set(file, { path: file, abs: path.resolve(wdir, file), keys, pos: this.pos(at) });
      } else if (keys === null || known.keys === null) {
        known.keys = null;
      } else {
        for (const k of keys) if (!known.keys.includes(k)) known.keys.push(k);
      }
    };
    for (const item of this.list(node, 'params')) {
      const v = this.resolve(item, ctx, 'params');
      if (typeof v === 'string') {
        add(DEFAULT_PARAMS_FILE, [v], item);
      } else if (isValueMap(v)) {
        for (const [file, keys] of Object.entries(v)) {
          if (keys === null || (Array.isArray(keys) && keys.length === 0)) add(file, null, item);
          else if (Array.isArray(keys) && keys.every((k) => typeof k === 'string'))
            add(file, keys, item);
          else this.fail(item, `params of '${file}' must be a list of keys (or empty for all)`);
        }
      } else {
        this.fail(item, 'each params item must be a key or {file: [keys]}');
      }
    }
    // A file tracked whole makes bare keys for it redundant (DVC ignores them).
    return [...byFile.values()];
  }

  out(item: Node | null, ctx: Context, wdir: string, kind: OutKind): StageOut {
    const v = this.resolve(item, ctx, kind);
    let p: string;
    let flags: ValueMap = {};
    if (typeof v === 'string') {
      p = v;
    } else if (isValueMap(v) && Object.keys(v).length === 1) {
      p = Object.keys(v)[0] ?? '';
      const f = v[p];
      if (f !== null && f !== undefined && !isValueMap(f)) {
        this.fail(item, `flags of '${p}' must be a mapping such as {cache: false}`);
      }
      flags = f ?? {};
    } else {
      return this.fail(item, `each ${kind} item must be a path or {path: {flags}}`);
    }
    if (p === '') this.fail(item, 'empty output path');
    const out: StageOut = {
      path: p,
      abs: path.resolve(wdir, p),
      kind,
      cache: true,
      persist: false,
      push: true,
      flags: {},
      pos: this.pos(item),
    };
    for (const [k, x] of Object.entries(flags)) {
      if (k === 'cache' || k === 'persist' || k === 'push') {
        if (typeof x !== 'boolean') this.fail(item, `\`${k}\` of '${p}' must be true or false`);
        out[k] = x;
      } else if (OUT_FLAGS.has(k) || (kind === 'plots' && PLOT_FLAGS.has(k))) {
        out.flags[k] = x;
      } else {
        this.fail(item, `unknown flag '${k}' for ${kind} '${p}'`);
      }
    }
    return out;
  }
}

export function parsePipeline(file: string, text: string, options: ParseOptions): Pipeline {
  return new Parser(file, text, options.root, options.flags ?? DEFAULT_FLAGS).parse();
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
