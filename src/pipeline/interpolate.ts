/**
 * `${}` interpolation as DVC's `dvc/parsing` does it: a context built by strict merging (a key
 * defined by two sources is an error), dotted/indexed lookups, whole-string references that
 * keep their type, embedded ones stringified, and maps expanded to CLI flags inside `cmd`.
 */
import { YamlFloat } from '../core/ruamel-yaml.js';
import { isValueMap, pyStr, type Value, type ValueMap } from './values.js';

/** `parsing.bool` / `parsing.list` settings of DVC's config (defaults shown first). */
export interface FlagConfig {
  bool: 'store_true' | 'boolean_optional';
  list: 'nargs' | 'append';
}

export const DEFAULT_FLAGS: FlagConfig = { bool: 'store_true', list: 'nargs' };

/** A failure with the offset inside the string where it happened (for line:col). */
export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly offset = 0,
  ) {
    super(message);
  }
}

export class Context {
  readonly data: ValueMap;
  /** top-level key → where it was defined, for redefinition messages */
  readonly sources: Map<string, string>;

  constructor(data: ValueMap = {}, sources = new Map<string, string>()) {
    this.data = data;
    this.sources = sources;
  }

  clone(): Context {
    return new Context(structuredCloneValue(this.data) as ValueMap, new Map(this.sources));
  }

  /** Merges `other` in; a key present on both sides that is not a map on both is an error. */
  merge(other: ValueMap, source: string): void {
    const walk = (into: ValueMap, from: ValueMap, prefix: string): void => {
      for (const [k, v] of Object.entries(from)) {
        const key = prefix === '' ? k : `${prefix}.${k}`;
        const have = into[k];
        if (have === undefined) {
          into[k] = structuredCloneValue(v);
          if (prefix === '') this.sources.set(k, source);
        } else if (isValueMap(have) && isValueMap(v)) {
          walk(have, v, key);
        } else {
          const top = key.split('.')[0] ?? key;
          throw new InterpolationError(
            `cannot redefine '${key}' from '${source}' as it already exists in '${this.sources.get(top) ?? 'the context'}'`,
          );
        }
      }
    };
    walk(this.data, other, '');
  }

  select(expr: string): Value {
    const parts = parseKey(expr);
    let cur: Value | undefined = this.data;
    let walked = '';
    for (const part of parts) {
      if (typeof part === 'number') {
        if (!Array.isArray(cur) || part >= cur.length || part < 0) {
          throw new InterpolationError(
            `Could not find '${expr}': '${walked}' has no index ${part}`,
          );
        }
        cur = cur[part];
        walked += `[${part}]`;
      } else {
        if (!isValueMap(cur ?? null) || !Object.hasOwn(cur as ValueMap, part)) {
          throw new InterpolationError(`Could not find '${expr}'`);
        }
        cur = (cur as ValueMap)[part];
        walked += walked === '' ? part : `.${part}`;
      }
    }
    return cur ?? null;
  }
}

function structuredCloneValue(v: Value): Value {
  if (Array.isArray(v)) return v.map(structuredCloneValue);
  if (isValueMap(v)) {
    const out: ValueMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = structuredCloneValue(x);
    return out;
  }
  return v;
}

const KEY_PART = /^([^.[\]]+)|^\.([^.[\]]+)|^\[(\d+)\]/;

/** `a.b[0].c` → ['a', 'b', 0, 'c'] */
export function parseKey(expr: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let rest = expr.trim();
  if (rest === '') throw new InterpolationError('empty interpolation ${}');
  while (rest !== '') {
    const m = KEY_PART.exec(rest);
    if (m === null || (parts.length === 0 && m[1] === undefined)) {
      throw new InterpolationError(`invalid expression '\${${expr}}': use a.b, a[0] or a.b[2].c`);
    }
    if (m[3] !== undefined) parts.push(Number(m[3]));
    else parts.push((m[1] ?? m[2] ?? '').trim());
    rest = rest.slice(m[0].length);
  }
  return parts;
}

const KEYCRE = /(?<!\\)\$\{(.*?)\}/g;

export function hasInterpolation(s: string): boolean {
  KEYCRE.lastIndex = 0;
  return KEYCRE.test(s);
}

/**
 * Resolves the `${}` in one string. `field` is the stage field it belongs to: only `cmd` may
 * embed a map (expanded to flags).
 */
export function interpolate(s: string, ctx: Context, field: string, flags = DEFAULT_FLAGS): Value {
  const matches = [...s.matchAll(KEYCRE)];
  if (matches.length === 0) return unescape(s);
  const first = matches[0];
  if (matches.length === 1 && first !== undefined && first[0] === s) {
    return at(first.index, () => ctx.select(first[1] ?? ''));
  }
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += unescape(s.slice(last, m.index));
    const value = at(m.index, () => ctx.select(m[1] ?? ''));
    out += at(m.index, () => embed(value, field, flags));
    last = m.index + m[0].length;
  }
  return out + unescape(s.slice(last));
}

function at<T>(offset: number, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof InterpolationError) throw new InterpolationError(error.message, offset);
    throw error;
  }
}

function unescape(s: string): string {
  return s.replaceAll('\\${', '${');
}

function embed(value: Value, field: string, flags: FlagConfig): string {
  if (value === null || typeof value !== 'object' || value instanceof YamlFloat)
    return pyStr(value);
  if (isValueMap(value) && field === 'cmd') return dictToFlags(value, flags);
  throw new InterpolationError(
    `Cannot interpolate data of type '${Array.isArray(value) ? 'list' : 'dict'}'${isValueMap(value) ? ' outside cmd' : ''}`,
  );
}

/** DVC's `to_str` for a map in `cmd`: nested keys joined with dots, shell-quoted strings. */
export function dictToFlags(map: ValueMap, flags: FlagConfig = DEFAULT_FLAGS): string {
  let result = '';
  for (const [k, v] of flatten(map)) {
    if (typeof v === 'boolean') {
      if (v) result += `--${k} `;
      else if (flags.bool === 'boolean_optional') result += `--no-${k} `;
    } else if (typeof v === 'string') {
      result += `--${k} ${shellQuote(v)} `;
    } else if (Array.isArray(v)) {
      v.forEach((item, n) => {
        if (Array.isArray(item) || isValueMap(item)) {
          throw new InterpolationError(`Cannot interpolate nested iterable in '${k}'`);
        }
        const s = typeof item === 'string' ? shellQuote(item) : pyStr(item);
        if (flags.list === 'append') result += `--${k} ${s} `;
        else result += n > 0 ? `${s} ` : `--${k} ${s} `;
      });
    } else {
      result += `--${k} ${pyStr(v)} `;
    }
  }
  return result.trimEnd();
}

function flatten(map: ValueMap, prefix = ''): [string, Value][] {
  return Object.entries(map).flatMap(([k, v]): [string, Value][] =>
    isValueMap(v) ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}

/** Python's shlex.quote. */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}
