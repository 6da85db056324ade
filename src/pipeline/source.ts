/**
 * One dvc.yaml being read: its text and YAML nodes with positions, the failure at
 * dvc.yaml:line:col, and `${}` resolution of every string below a node. The other parsing
 * stages (vars, foreach/matrix expansion, stage fields) work through it.
 */
import path from 'node:path';
import type { Pair } from 'yaml';
import { isMap, isScalar, isSeq, newLineCounter, type Node } from '../core/yaml-lib.js';
import { ManifestError } from '../core/errors.js';
import { toPosix } from '../core/fs.js';
import { YamlFloat } from '../core/ruamel-yaml.js';
import { Context, interpolate, InterpolationError, type FlagConfig } from './interpolate.js';
import type { Pos, Value, ValueMap } from './values.js';

export class PipelineSource {
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

  /** vars files merged so far (absolute path), with the keys taken (null: the whole file) */
  readonly imported = new Map<string, Set<string> | null>();

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
}
