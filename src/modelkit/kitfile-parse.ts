/**
 * Reads a Kitfile (YAML) the way kit does — strict: an unknown key is an error — keeping the
 * position of every value so validation can point at `Kitfile:line:col`.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { ManifestError, errnoCode } from '../core/errors.js';
import type { GoValue } from '../oci/gojson.js';
import {
  CODE_KEYS,
  DATASET_KEYS,
  DOCS_KEYS,
  MODEL_KEYS,
  NAMED_KEYS,
  PACKAGE_KEYS,
  PART_KEYS,
  TOP_KEYS,
  type Kitfile,
} from './kitfile.js';

/** 1-based position of a value in the Kitfile. */
export interface Position {
  line: number;
  col: number;
}

export interface ParsedKitfile {
  /** as named in messages (relative to the cwd when possible) */
  file: string;
  kitfile: Kitfile;
  /** where each value was written, keyed like `model.parts[1].type` or `code[0]` */
  positions: Map<string, Position>;
}

/** The names kit looks for in the context directory, in order. */
export const KITFILE_NAMES = ['Kitfile', 'kitfile', '.kitfile'] as const;

/** Finds the Kitfile of a context directory (or reads the `-f` file). */
export async function readKitfile(
  contextDir: string,
  explicit: string | undefined,
  cwd: string,
): Promise<ParsedKitfile> {
  const candidates =
    explicit === undefined
      ? KITFILE_NAMES.map((n) => path.join(contextDir, n))
      : [path.resolve(cwd, explicit)];
  for (const file of candidates) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'EISDIR') continue;
      throw error;
    }
    return parseKitfile(displayPath(cwd, file), text);
  }
  const shown =
    explicit === undefined ? path.join(displayPath(cwd, contextDir), 'Kitfile') : explicit;
  throw new ManifestError(shown, 1, 1, 'no Kitfile found', {
    hint: 'Create one with `cairn kit init`, or name it with -f.',
  });
}

export function displayPath(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel === '' ? '.' : rel.startsWith('..') ? file : rel;
}

export function parseKitfile(file: string, text: string): ParsedKitfile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, intAsBigInt: true });
  const positions = new Map<string, Position>();
  const at = (node: Node | null | undefined): Position => {
    const p = lines.linePos(node?.range?.[0] ?? 0);
    return { line: p.line, col: p.col };
  };
  const fail = (node: Node | null | undefined, message: string, hint?: string): never => {
    const p = at(node);
    throw new ManifestError(file, p.line, p.col, message, hint === undefined ? {} : { hint });
  };
  const err = doc.errors[0];
  if (err !== undefined) {
    const p = lines.linePos(err.pos[0]);
    throw new ManifestError(file, p.line, p.col, err.message.split('\n')[0] ?? 'invalid YAML', {
      hint: 'Fix the YAML syntax.',
    });
  }
  const root = doc.contents;
  if (root === null) return { file, kitfile: { manifestVersion: '', package: {} }, positions };
  if (!isMap(root)) return fail(root, 'a Kitfile is a mapping of sections (package, model, …)');

  /** A scalar as Go's yaml.v3 decodes it into a string field: its literal text. */
  const scalarText = (node: unknown, key: string): string | undefined => {
    if (node === null || node === undefined) return undefined;
    if (!isScalar(node)) return fail(node as Node, `${key} must be a string`);
    if (node.value === null) return undefined;
    const src = (node as { source?: unknown }).source;
    return typeof src === 'string' ? src : plainText(node.value);
  };

  const keyName = (pair: Pair): string =>
    isScalar(pair.key) ? String(pair.key.value) : fail(pair.key as Node, 'keys must be strings');

  /** Reads one mapping against its allowed keys; `nested` handles non-string fields. */
  const section = (
    node: unknown,
    where: string,
    allowed: readonly string[],
    nested: Record<string, (value: unknown, key: string) => unknown> = {},
  ): Record<string, unknown> => {
    if (!isMap(node)) return fail(node as Node, `${where} must be a mapping`);
    positions.set(where, at(node));
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = keyName(pair);
      const keyPath = `${where}.${key}`;
      if (!allowed.includes(key)) {
        fail(
          pair.key as Node,
          `unknown key "${key}" in ${where}`,
          `Known keys: ${allowed.join(', ')}.`,
        );
      }
      positions.set(keyPath, at(pair.value as Node));
      const handler = nested[key];
      const value =
        handler === undefined ? scalarText(pair.value, keyPath) : handler(pair.value, keyPath);
      if (value !== undefined) out[key] = value;
    }
    return out;
  };

  const listOf = (
    node: unknown,
    where: string,
    each: (item: unknown, where: string) => unknown,
  ): unknown[] | undefined => {
    if (node === null || node === undefined) return undefined;
    if (isScalar(node) && node.value === null) return undefined;
    if (!isSeq(node)) return fail(node as Node, `${where} must be a list`);
    return node.items.map((item, i) => {
      positions.set(`${where}[${i}]`, at(item as Node));
      return each(item, `${where}[${i}]`);
    });
  };

  const params = (node: unknown, where: string): GoValue | undefined => {
    const v = toGoValue(node, where);
    return v === null ? undefined : v;
  };
  const toGoValue = (node: unknown, where: string): GoValue => {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
      if (typeof v === 'bigint') {
        const min = -(2n ** 63n);
        const max = 2n ** 64n - 1n;
        return v >= min && v <= max ? v : Number(v);
      }
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) return fail(node, `${where}: JSON cannot hold ${String(v)}`);
        return v;
      }
      return plainText(v);
    }
    if (isSeq(node)) return node.items.map((item, i) => toGoValue(item, `${where}[${i}]`));
    if (isMap(node)) {
      const out: Record<string, GoValue> = {};
      for (const pair of node.items) {
        if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
          fail(pair.key as Node, `${where}: parameter keys must be strings`);
        }
        out[keyName(pair)] = toGoValue(pair.value, `${where}.${keyName(pair)}`);
      }
      return out;
    }
    return fail(node as Node, `${where}: unsupported YAML value`);
  };

  const authors = (node: unknown, where: string): string[] | undefined =>
    listOf(node, where, (item, w) => scalarText(item, w) ?? '') as string[] | undefined;

  const top = section(root, 'Kitfile', TOP_KEYS, {
    manifestVersion: (v, k) => scalarText(v, k),
    package: (v, k) =>
      v === null || (isScalar(v) && v.value === null)
        ? undefined
        : section(v, k.replace('Kitfile.', ''), PACKAGE_KEYS, { authors }),
    model: (v, k) =>
      v === null || (isScalar(v) && v.value === null)
        ? undefined
        : section(v, k.replace('Kitfile.', ''), MODEL_KEYS, {
            parts: (p, w) => listOf(p, w, (item, iw) => section(item, iw, PART_KEYS)),
            parameters: params,
          }),
    code: (v) => listOf(v, 'code', (item, w) => section(item, w, CODE_KEYS)),
    datasets: (v) =>
      listOf(v, 'datasets', (item, w) => section(item, w, DATASET_KEYS, { parameters: params })),
    docs: (v) => listOf(v, 'docs', (item, w) => section(item, w, DOCS_KEYS)),
    prompts: (v) => listOf(v, 'prompts', (item, w) => section(item, w, NAMED_KEYS)),
    mcpServers: (v) => listOf(v, 'mcpServers', (item, w) => section(item, w, NAMED_KEYS)),
  });
  // Positions of top-level keys are recorded under `Kitfile.<key>`; alias them to `<key>`.
  for (const key of TOP_KEYS) {
    const p = positions.get(`Kitfile.${key}`);
    if (p !== undefined && !positions.has(key)) positions.set(key, p);
  }
  const kitfile = {
    manifestVersion: (top.manifestVersion as string | undefined) ?? '',
    package: (top.package as Kitfile['package'] | undefined) ?? {},
  } as Kitfile;
  for (const key of ['model', 'code', 'datasets', 'docs', 'prompts', 'mcpServers'] as const) {
    if (top[key] !== undefined) (kitfile as unknown as Record<string, unknown>)[key] = top[key];
  }
  for (const d of kitfile.docs ?? []) d.path = (d as { path?: string }).path ?? '';
  return { file, kitfile, positions };
}

/** Text of a scalar value the YAML library resolved (numbers, booleans, dates). */
function plainText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'symbol' || typeof v === 'function' || v === undefined
    ? ''
    : JSON.stringify(v);
}
