/**
 * The values that flow through dvc.yaml templating and params files: plain JSON-like data in
 * which floats stay floats (`1.0` is a {@link YamlFloat}), as Python would keep them, so that
 * dvc.lock and run-cache keys print them as DVC does.
 */
import { isMap, isScalar, isSeq, type Node } from '../core/yaml-lib.js';
import { YamlFloat, type YamlValue } from '../core/ruamel-yaml.js';
import { PyFloat, pythonFloatRepr, type PyJson } from '../core/python-json.js';

export type Value = null | boolean | number | string | YamlFloat | Value[] | ValueMap;
export interface ValueMap {
  [key: string]: Value;
}

export function isValueMap(v: Value | undefined): v is ValueMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof YamlFloat);
}

/** A position in a user-written file, 1-based. */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

const FLOAT_SOURCE = /[.eE]|inf|nan/i;

/** Converts a YAML node to a {@link Value}, using the source text to tell `1.0` from `1`. */
export function nodeToValue(node: Node | null | undefined, text: string): Value {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'number') {
      const src = text.slice(node.range?.[0] ?? 0, node.range?.[1] ?? 0);
      return FLOAT_SOURCE.test(src) || !Number.isInteger(v) ? new YamlFloat(v) : v;
    }
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'bigint') return Number(v);
    return JSON.stringify(v);
  }
  if (isSeq(node)) return node.items.map((n) => nodeToValue(n as Node | null, text));
  if (isMap(node)) {
    const out: ValueMap = {};
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      out[key] = nodeToValue(pair.value as Node | null, text);
    }
    return out;
  }
  return null;
}

/** Converts parsed JSON or TOML to a {@link Value} (non-integral numbers become floats). */
export function plainToValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new YamlFloat(v);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plainToValue);
  if (typeof v === 'object') {
    const out: ValueMap = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = plainToValue(x);
    return out;
  }
  return JSON.stringify(v);
}

export function toYaml(v: Value): YamlValue {
  if (Array.isArray(v)) return v.map(toYaml);
  if (isValueMap(v)) {
    const m = new Map<string, YamlValue>();
    for (const [k, x] of Object.entries(v)) m.set(k, toYaml(x));
    return m;
  }
  return v;
}

export function toPyJson(v: Value): PyJson {
  if (v instanceof YamlFloat) return new PyFloat(v.value);
  if (Array.isArray(v)) return v.map(toPyJson);
  if (isValueMap(v)) {
    const out: Record<string, PyJson> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPyJson(x);
    return out;
  }
  return v;
}

/** Python equality: `1 == 1.0`, deep for lists and maps. */
export function valuesEqual(a: Value | undefined, b: Value | undefined): boolean {
  const na = a instanceof YamlFloat ? a.value : a;
  const nb = b instanceof YamlFloat ? b.value : b;
  if (typeof na === 'number' || typeof nb === 'number') return na === nb;
  if (Array.isArray(na) || Array.isArray(nb)) {
    if (!Array.isArray(na) || !Array.isArray(nb) || na.length !== nb.length) return false;
    return na.every((x, i) => valuesEqual(x, nb[i]));
  }
  if (isValueMap(na ?? null) || isValueMap(nb ?? null)) {
    if (!isValueMap(na ?? null) || !isValueMap(nb ?? null)) return false;
    const ma = na as ValueMap;
    const mb = nb as ValueMap;
    const ka = Object.keys(ma);
    if (ka.length !== Object.keys(mb).length) return false;
    return ka.every((k) => k in mb && valuesEqual(ma[k], mb[k]));
  }
  return na === nb;
}

/** Python's `str()` of a value as DVC embeds it in a string. */
export function pyStr(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof YamlFloat) return pythonFloatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pythonFloatRepr(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
