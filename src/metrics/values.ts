/**
 * Metrics and params values as DVC compares them: files read by extension (JSON, TOML, else
 * YAML) with errors at file:line:col, metrics reduced to their scalars, nested keys flattened
 * with dots, and the `{old, new, diff}` difference of two flattened files.
 */
import path from 'node:path';
import { ManifestError } from '../core/errors.js';
import { YamlFloat } from '../core/ruamel-yaml.js';
import { parseParams } from '../pipeline/params.js';
import type { Value } from '../pipeline/values.js';
import { jsonErrorPosition } from './json-error.js';

export type Scalar = number | string | boolean | null;
/** Nested maps as a file holds them (lists kept for params, dropped for metrics). */
export interface Tree {
  [key: string]: Scalar | Tree | unknown[];
}

/** `file` is shown in errors; `where` adds the revision it was read at. */
export function parseDataFile(file: string, text: string, where = ''): Tree {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return parseJsonTree(file, text, where);
  try {
    return toPlain(parseParams(file, text)) as Tree;
  } catch (error) {
    if (error instanceof ManifestError && where !== '')
      throw new ManifestError(error.file, error.line, error.column, `${bare(error)}${where}`);
    throw error;
  }
}

function bare(error: ManifestError): string {
  return error.message.slice(`${error.file}:${error.line}:${error.column}: `.length);
}

function parseJsonTree(file: string, text: string, where: string): Tree {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const { line, col } = jsonErrorPosition(text);
    throw new ManifestError(file, line, col, `invalid JSON${where}: ${(error as Error).message}`, {
      hint: 'Fix the file, or the stage that writes it, and run again.',
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ManifestError(file, 1, 1, `a metrics or params file must hold an object${where}`);
  return value as Tree;
}

function toPlain(v: Value): unknown {
  if (v instanceof YamlFloat) return v.value;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

/** DVC's `_extract_metrics`: numbers, strings and booleans in nested maps; the rest dropped. */
export function extractMetrics(tree: Tree): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = extractMetrics(v);
      if (Object.keys(inner).length > 0) out[k] = inner;
    }
  }
  return out;
}

/** `{a: {b: 1}}` → `{'a.b': 1}`; lists are leaves, as DVC's flatten leaves them. */
export function flatten(tree: Tree, prefix = '', out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

/** One changed key: `diff` only when both sides are numbers (booleans count, as in Python). */
export interface Change {
  old: unknown;
  new: unknown;
  diff?: number;
}

/** `{path: {key: change}}`, DVC's `--json` shape for metrics and params diffs. */
export type DiffResult = Record<string, Record<string, Change>>;

function isNumeric(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

function sameValue(a: unknown, b: unknown): boolean {
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * DVC's `utils/diff.diff` over flattened files: every key of either side; unchanged keys only
 * with `all`; a missing side is `null`. Paths and keys come out sorted.
 */
export function diffFiles(
  old: ReadonlyMap<string, Record<string, unknown>>,
  neu: ReadonlyMap<string, Record<string, unknown>>,
  all: boolean,
): DiffResult {
  const result: DiffResult = {};
  for (const file of [...new Set([...old.keys(), ...neu.keys()])].sort()) {
    const a = old.get(file) ?? {};
    const b = neu.get(file) ?? {};
    const changes: Record<string, Change> = {};
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      let va: unknown = a[key] ?? null;
      let vb: unknown = b[key] ?? null;
      if (Array.isArray(va) && Array.isArray(vb) && va.length === 1 && vb.length === 1) {
        va = (va as unknown[])[0];
        vb = (vb as unknown[])[0];
      }
      if (!all && sameValue(va, vb)) continue;
      const change: Change = { old: va, new: vb };
      if (isNumeric(va) && isNumeric(vb)) change.diff = Number(vb) - Number(va);
      changes[key] = change;
    }
    if (Object.keys(changes).length > 0) result[file] = changes;
  }
  return result;
}
