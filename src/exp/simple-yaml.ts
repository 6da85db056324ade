/**
 * A fast path for the params files `exp show` reads hundreds of: block mappings of plain
 * scalars (`key: value  # comment`), flattened to dotted keys with YAML 1.2 core-schema typing.
 * Anything else (lists, flow collections, anchors, tags, block scalars, escapes) returns
 * undefined and goes to the full parser, so the two always agree.
 */
import type { Cell } from './values.js';

const KEY = /^( *)([A-Za-z0-9_][A-Za-z0-9_.-]*|'[^']*'):(?: +(.*))?$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** The scalar a plain or single-quoted value text is, or undefined when it needs the full parser. */
function scalar(raw: string): Cell | undefined {
  let text = raw;
  if (text.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'(?: +#.*)?$/.exec(text);
    return m === null ? undefined : (m[1] ?? '').replaceAll("''", "'");
  }
  const hash = text.search(/ #/);
  if (hash >= 0) text = text.slice(0, hash);
  text = text.trimEnd();
  if (text === '' || /^[[\]{}&*!|>%@`"?#,]|^-(?: |$)/.test(text) || text.includes(': '))
    return undefined;
  if (text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  if (INT.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (FLOAT.test(text)) return Number(text);
  if (/^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$|^0[ox]/.test(text)) return undefined;
  return text;
}

export function flattenSimpleYaml(text: string): Record<string, Cell> | undefined {
  const out: Record<string, Cell> = {};
  /** open parents: indent and dotted path */
  const stack: { indent: number; path: string; empty: boolean }[] = [];
  const close = (indent: number): void => {
    for (let top = stack.at(-1); top !== undefined && top.indent >= indent; top = stack.at(-1)) {
      if (top.empty) out[top.path] = null;
      stack.pop();
    }
  };
  for (const line of text.split('\n')) {
    if (line.includes('\t') || line.startsWith('---') || line.startsWith('...')) return undefined;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = KEY.exec(line.trimEnd());
    if (m === null) return undefined;
    const indent = (m[1] ?? '').length;
    const rawKey = m[2] ?? '';
    const key = rawKey.startsWith("'") ? rawKey.slice(1, -1).replaceAll("''", "'") : rawKey;
    close(indent);
    const parent = stack.at(-1);
    if (parent === undefined ? indent !== 0 : indent <= parent.indent) return undefined;
    if (parent !== undefined) parent.empty = false;
    const path = parent === undefined ? key : `${parent.path}.${key}`;
    if (Object.hasOwn(out, path)) return undefined;
    const value = m[3];
    if (value === undefined || value.startsWith('#')) {
      stack.push({ indent, path, empty: true });
      continue;
    }
    const v = scalar(value);
    if (v === undefined) return undefined;
    out[path] = v;
  }
  close(0);
  return out;
}
