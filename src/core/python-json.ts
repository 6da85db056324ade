/**
 * Byte-exact `json.dumps(value, sort_keys=True)` as CPython writes it (default separators
 * `", "` and `": "`, `ensure_ascii=True`): DVC hashes `.dir` manifests and run-cache keys
 * over these bytes, so any difference changes the digest.
 */

/** A number that Python holds as a float, so that `1.0` prints as `1.0` and not `1`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * Whole JS numbers print as Python ints (`bigint` for any size); wrap a number in
 * {@link PyFloat} when Python would hold a float.
 */
export type PyJson =
  null | boolean | number | bigint | string | PyFloat | PyJson[] | { [key: string]: PyJson };

export function pythonJsonDumps(value: PyJson): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pythonJsonString(value);
  if (value instanceof PyFloat) return pythonJsonFloat(value.value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  const keys = Object.keys(value).sort(compareCodePoints);
  return `{${keys.map((k) => `${pythonJsonString(k)}: ${pythonJsonDumps(value[k] ?? null)}`).join(', ')}}`;
}

/**
 * Python compares str by code point; JS's default sort compares UTF-16 units, which puts
 * U+10000 and above (surrogate pairs) before U+E000..U+FFFF. A lone surrogate counts as its
 * own code point (U+D800..U+DFFF), as it does in a Python str.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

export function pythonJsonString(s: string): string {
  let out = '"';
  let plainFrom = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(plainFrom, i);
    out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    plainFrom = i + 1;
  }
  return `${out}${s.slice(plainFrom)}"`;
}

/**
 * A JSON number as `json.dumps` prints it: whole numbers as Python ints (every digit, as
 * `str(int)`; `-0` is `0`), others as floats.
 */
export function pythonNumber(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  return pythonJsonFloat(n);
}

/** `json.dumps(float)`: `float.__repr__`, with NaN and the infinities spelled as JavaScript does. */
export function pythonJsonFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return pythonFloatRepr(n);
}

/** CPython's float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
export function pythonFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, which is
  // also what repr() picks (David Gay's mode 0).
  const [mantissa = '', expPart = '0'] = n.toExponential().split('e');
  const exp = Number(expPart);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(n);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}
