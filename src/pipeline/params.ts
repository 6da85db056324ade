/**
 * Parameter files (YAML by default, JSON, TOML) read into {@link Value}s, and the dotted-key
 * lookups (`train.lr`) that stage `params` name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseTomlText } from 'smol-toml';
import { newLineCounter, parseDocument, yamlMessage } from '../core/yaml-lib.js';
import { CairnError, ManifestError } from '../core/errors.js';
import { stampOf } from './memo.js';
import { isValueMap, nodeToValue, plainToValue, type Value, type ValueMap } from './values.js';

const cache = new Map<string, { mtimeMs: number; size: number; data: ValueMap }>();

/** Reads a params file; undefined when it does not exist. Errors carry file:line:col. */
/** When set, every params file read (or found missing) is recorded with its stat stamp. */
let tracker: Map<string, string> | undefined;

/** Runs `body`, returning the params and vars files it read with their stamps. */
export function trackReads<T>(body: () => T): { value: T; reads: Map<string, string> } {
  const outer = tracker;
  const reads = new Map<string, string>();
  tracker = reads;
  try {
    return { value: body(), reads };
  } finally {
    tracker = outer;
    if (outer !== undefined) for (const [k, v] of reads) outer.set(k, v);
  }
}

export function readParamsFile(abs: string): ValueMap | undefined {
  tracker?.set(abs, stampOf(abs));
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    return undefined;
  }
  const known = cache.get(abs);
  if (known?.mtimeMs === st.mtimeMs && known.size === st.size) return known.data;
  const text = fs.readFileSync(abs, 'utf8');
  const data = parseParams(abs, text);
  cache.set(abs, { mtimeMs: st.mtimeMs, size: st.size, data });
  return data;
}

export function parseParams(file: string, text: string): ValueMap {
  const ext = path.extname(file).toLowerCase();
  let value: Value;
  if (ext === '.json') {
    try {
      value = plainToValue(JSON.parse(text));
    } catch (error) {
      throw new ManifestError(file, 1, 1, `invalid JSON: ${(error as Error).message}`);
    }
  } else if (ext === '.toml') {
    value = parseToml(file, text);
  } else if (ext === '.py') {
    throw new CairnError('params-py', `${file}: Python params files are not supported yet`, {
      hint: 'Use params.yaml, a .json or a .toml file.',
    });
  } else {
    const lines = newLineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    const err = doc.errors[0];
    if (err !== undefined) {
      const p = lines.linePos(err.pos[0]);
      throw new ManifestError(file, p.line, p.col, yamlMessage(err.message));
    }
    value = nodeToValue(doc.contents, text);
  }
  if (value === null) return {};
  if (!isValueMap(value)) {
    throw new ManifestError(file, 1, 1, 'a params file must hold a mapping of names to values');
  }
  return value;
}

function parseToml(file: string, text: string): Value {
  try {
    return plainToValue(parseTomlText(text));
  } catch (error) {
    const e = error as { line?: number; column?: number; message: string };
    throw new ManifestError(
      file,
      e.line ?? 1,
      e.column ?? 1,
      `invalid TOML: ${e.message.split('\n')[0] ?? ''}`,
    );
  }
}

/** `train.lr` in `{train: {lr: 0.1}}`; list items by index (`layers.0`). */
export function lookupParam(data: ValueMap, key: string): Value | undefined {
  if (Object.hasOwn(data, key)) return data[key];
  let cur: Value | undefined = data;
  for (const part of key.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isValueMap(cur ?? null) && Object.hasOwn(cur as ValueMap, part))
      cur = (cur as ValueMap)[part];
    else return undefined;
  }
  return cur;
}
