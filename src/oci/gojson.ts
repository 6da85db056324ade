/**
 * Go encoding/json's compact output, byte for byte: HTML-safe string escaping, shortest float
 * form with Go's exponent rule, sorted map keys. The config blob's digest depends on it.
 */

/** A JSON value as Go would hold it after decoding YAML into `any`; bigint for wide integers. */
export type GoValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly GoValue[]
  | { readonly [key: string]: GoValue };

const HEX = '0123456789abcdef';

/** A JSON string literal as Go writes it (escapes `<>&`, U+2028/U+2029 and control bytes). */
export function goString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      switch (c) {
        case 0x22:
          esc = '\\"';
          break;
        case 0x5c:
          esc = '\\\\';
          break;
        case 0x0a:
          esc = '\\n';
          break;
        case 0x0d:
          esc = '\\r';
          break;
        case 0x09:
          esc = '\\t';
          break;
        case 0x08:
          esc = '\\b';
          break;
        case 0x0c:
          esc = '\\f';
          break;
        default:
          esc = `\\u00${HEX[c >> 4] ?? '0'}${HEX[c & 0xf] ?? '0'}`;
      }
    } else if (c === 0x2028 || c === 0x2029) {
      esc = c === 0x2028 ? '\\u2028' : '\\u2029';
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 in Go: it becomes U+FFFD.
      const pair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair) {
        i++;
        continue;
      }
      esc = '\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return `${out}${s.slice(start)}"`;
}

/** A float64 as Go's encoding/json writes it: shortest round-trip, `e` below 1e-6 and from 1e21. */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`Internal error: unsupported value ${String(n)}`);
  if (Object.is(n, -0)) return '-0';
  // JavaScript's Number#toString picks the same shortest digits and the same thresholds.
  return String(n);
}

/** Go's json.Marshal of a value decoded into `any` (maps sorted by key, compact). */
export function goJson(value: GoValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return goFloat(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return goString(value);
    default:
      break;
  }
  if (isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const keys = Object.keys(value).sort(byteOrder);
  return `{${keys.map((k) => `${goString(k)}:${goJson(value[k] ?? null)}`).join(',')}}`;
}

function isArray(v: GoValue): v is readonly GoValue[] {
  return Array.isArray(v);
}

/** Go sorts map keys as byte strings; for UTF-16 this differs only above the BMP. */
export function byteOrder(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

/**
 * A Go struct written field by field: `fields` in declaration order, each either always present
 * or `omitempty` (dropped when undefined, '', an empty list or an empty object).
 */
export function goStruct(fields: readonly [key: string, json: string | undefined][]): string {
  const parts: string[] = [];
  for (const [key, json] of fields) if (json !== undefined) parts.push(`${goString(key)}:${json}`);
  return `{${parts.join(',')}}`;
}

/** `omitempty` for a string field. */
export function optString(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : goString(s);
}

/** `omitempty` for a slice field. */
export function optList<T>(
  items: readonly T[] | undefined,
  each: (t: T) => string,
): string | undefined {
  return items === undefined || items.length === 0 ? undefined : `[${items.map(each).join(',')}]`;
}

/**
 * `omitempty` for an `any` field: Go drops only a nil interface, so an empty map or list that
 * was written in the YAML is kept.
 */
export function optAny(v: GoValue | undefined): string | undefined {
  return v === undefined || v === null ? undefined : goJson(v);
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64), which yaml.v3 uses for floats. */
export function goFormatG(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '0', expPart = '0'] = n.toExponential().split('e');
  const exp = Number(expPart);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${mant}e${sign}${abs < 10 ? `0${abs}` : String(abs)}`;
  }
  return String(n);
}
