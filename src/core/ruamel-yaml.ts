/**
 * A YAML writer that reproduces ruamel.yaml's round-trip dump byte for byte for the shapes
 * DVC writes (`.dvc` files, dvc.lock): block style, sequences not indented under their key,
 * scalars quoted only when they would read back as another type, and long scalars folded
 * once the column passes 80.
 */
import { pythonFloatRepr } from './python-json.js';

export type YamlValue =
  | null
  | boolean
  | number
  | string
  | YamlFloat
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue };

/** A number that must print as a float (`1.0`), as Python would keep it. */
export class YamlFloat {
  constructor(readonly value: number) {}
}

const BEST_WIDTH = 80;

export function dumpYaml(value: YamlValue): string {
  const out: string[] = [];
  writeNode(out, value, 0, 'root');
  return out.join('');
}

type Context = 'root' | 'map-value' | 'seq-item';

function isCollection(v: YamlValue): v is readonly YamlValue[] | { readonly [key: string]: YamlValue } {
  return v !== null && typeof v === 'object' && !(v instanceof YamlFloat);
}

function isEmptyCollection(v: YamlValue): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return isCollection(v) && Object.keys(v).length === 0;
}

function writeNode(out: string[], value: YamlValue, indent: number, ctx: Context): void {
  if (Array.isArray(value)) {
    writeSequence(out, value as readonly YamlValue[], indent, ctx);
  } else if (isCollection(value)) {
    writeMapping(out, value as { readonly [key: string]: YamlValue }, indent, ctx);
  } else {
    out.push(scalar(value, indent, currentColumn(out)), '\n');
  }
}

function writeMapping(
  out: string[],
  map: { readonly [key: string]: YamlValue },
  indent: number,
  ctx: Context,
): void {
  const keys = Object.keys(map);
  if (keys.length === 0) {
    out.push('{}\n');
    return;
  }
  keys.forEach((key, i) => {
    // The first key of a mapping inside a sequence item shares the line with "- ".
    if (!(ctx === 'seq-item' && i === 0)) out.push(' '.repeat(indent));
    const child = map[key] ?? null;
    out.push(scalar(key, indent, currentColumn(out)), ':');
    if (isCollection(child) && !isEmptyCollection(child)) {
      out.push('\n');
      writeNode(out, child, Array.isArray(child) ? indent : indent + 2, 'map-value');
    } else if (isEmptyCollection(child)) {
      out.push(Array.isArray(child) ? ' []\n' : ' {}\n');
    } else {
      out.push(' ');
      out.push(scalar(child, indent + 2, currentColumn(out)), '\n');
    }
  });
}

function writeSequence(
  out: string[],
  seq: readonly YamlValue[],
  indent: number,
  ctx: Context,
): void {
  if (seq.length === 0) {
    out.push('[]\n');
    return;
  }
  seq.forEach((item, i) => {
    if (!(ctx === 'seq-item' && i === 0)) out.push(' '.repeat(indent));
    out.push('- ');
    if (isCollection(item) && !isEmptyCollection(item)) {
      writeNode(out, item, indent + 2, 'seq-item');
    } else if (isEmptyCollection(item)) {
      out.push(Array.isArray(item) ? '[]\n' : '{}\n');
    } else {
      out.push(scalar(item, indent + 2, currentColumn(out)), '\n');
    }
  });
}

function currentColumn(out: string[]): number {
  let col = 0;
  for (let i = out.length - 1; i >= 0; i--) {
    const piece = out[i] ?? '';
    const nl = piece.lastIndexOf('\n');
    if (nl >= 0) return col + piece.length - nl - 1;
    col += piece.length;
  }
  return col;
}

function scalar(value: Exclude<YamlValue, readonly YamlValue[] | object> | YamlFloat, indent: number, column: number): string {
  if (value === null) return 'null';
  if (value instanceof YamlFloat) return pythonFloatRepr(value.value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pythonFloatRepr(value);
  return stringScalar(value, indent, column);
}

/** Chooses plain, single-quoted or double-quoted style the way ruamel's emitter does. */
export function stringScalar(s: string, indent: number, column: number): string {
  if (needsDoubleQuotes(s)) return doubleQuoted(s);
  if (s === '' || !plainAllowed(s) || resolvesToNonString(s)) {
    return fold(`'${s.replaceAll("'", "''")}'`, indent, column, true);
  }
  return fold(s, indent, column, false);
}

/**
 * ruamel breaks a scalar at a single space once the column is past the best width; the
 * continuation line is indented to the scalar's indent. Quoted scalars fold the same way.
 */
function fold(text: string, indent: number, column: number, quoted: boolean): string {
  if (!text.includes(' ')) return text;
  let out = '';
  let col = column;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (ch === ' ') {
      let j = i;
      while (text[j] === ' ') j++;
      const single = j - i === 1;
      const atEnd = j >= text.length || (quoted && j === text.length - 1);
      if (single && col > BEST_WIDTH && !atEnd && i !== 0 && !(quoted && i === 1)) {
        out += `\n${' '.repeat(indent)}`;
        col = indent;
      } else {
        out += text.slice(i, j);
        col += j - i;
      }
      i = j;
      continue;
    }
    out += ch;
    col++;
    i++;
  }
  return out;
}

function needsDoubleQuotes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters, and line breaks (which plain and single-quoted styles would fold).
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff) {
      return true;
    }
  }
  return false;
}

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x00) out += '\\0';
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0b) out += '\\v';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x1b) out += '\\e';
    else if (c === 0x85) out += '\\N';
    else if (c === 0xa0) out += '\\_';
    else if (c === 0x2028) out += '\\L';
    else if (c === 0x2029) out += '\\P';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0xfeff) {
      out += c <= 0xff ? `\\x${c.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

const INDICATORS_FIRST = new Set(['#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** ruamel's analyze_scalar, reduced to the block-context plain-scalar rules. */
function plainAllowed(s: string): boolean {
  const first = s[0] ?? '';
  if (s.startsWith('---') || s.startsWith('...')) return false;
  if (INDICATORS_FIRST.has(first)) return false;
  if ((first === '-' || first === '?' || first === ':') && (s.length === 1 || s[1] === ' ')) return false;
  if (first === ' ' || s.endsWith(' ')) return false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const next = s[i + 1];
    if (ch === ':' && (next === undefined || next === ' ')) return false;
    if (ch === '#' && s[i - 1] === ' ') return false;
  }
  return true;
}

const BOOL_OR_NULL = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/;
// YAML 1.1 forms that ruamel's round-trip resolver still recognises.
const YAML11_BOOL = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/;

function resolvesToNonString(s: string): boolean {
  return (
    BOOL_OR_NULL.test(s) ||
    YAML11_BOOL.test(s) ||
    INT.test(s) ||
    FLOAT.test(s) ||
    TIMESTAMP.test(s) ||
    s === '=' ||
    s === '<<'
  );
}
