/**
 * `-S [file:]key=value` overrides in Hydra's syntax, and the sweeps that expand to a grid:
 * `key=range(start,stop[,step])` (stop excluded), `key=choice(a,b)` and `key=a,b,c`.
 */
import { CairnError } from '../core/errors.js';

export const DEFAULT_PARAMS_FILE = 'params.yaml';

/** One `-S`: a key of a params file and the value texts it takes (more than one: a sweep). */
export interface Override {
  /** the params file, relative to the repository root */
  file: string;
  /** dotted key (`train.lr`) */
  key: string;
  /** the value texts, in YAML scalar syntax */
  values: string[];
}

/** One value picked for one key: an experiment is a list of these. */
export interface Assignment {
  file: string;
  key: string;
  value: string;
}

function bad(text: string, why: string): CairnError {
  return new CairnError('bad-flag', `-S '${text}': ${why}`, {
    hint: "Write -S [file:]key=value, e.g. -S train.lr=0.01, -S 'params.yaml:train.C=range(0.1,1,0.1)' or -S train.seed=1,2,3.",
  });
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw bad(text, 'no key=value');
  let target = text.slice(0, eq).replace(/^\+{1,2}/, '');
  const raw = text.slice(eq + 1);
  let file = DEFAULT_PARAMS_FILE;
  const colon = target.lastIndexOf(':');
  if (colon >= 0) {
    file = target.slice(0, colon);
    target = target.slice(colon + 1);
    if (file === '') throw bad(text, 'an empty file name before ":"');
  }
  if (target === '' || target.split('.').some((p) => p === ''))
    throw bad(text, `'${target}' is not a dotted key`);
  return { file, key: target, values: sweepValues(text, raw.trim()) };
}

/** The values of a sweep expression, or the one value. */
function sweepValues(text: string, raw: string): string[] {
  const call = /^(range|choice)\((.*)\)$/s.exec(raw);
  if (call !== null) {
    const args = splitTopLevel(call[2] ?? '');
    if (call[1] === 'choice') {
      if (args.length === 0) throw bad(text, 'choice() needs at least one value');
      return args;
    }
    return rangeValues(text, args);
  }
  const items = splitTopLevel(raw);
  return items.length > 1 ? items : [raw];
}

/** Splits on commas outside quotes and brackets; trims each item. */
function splitTopLevel(s: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (const ch of s) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth += 1;
    else if (')]}'.includes(ch)) depth -= 1;
    else if (ch === ',' && depth === 0) {
      items.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim() !== '' || items.length > 0) items.push(cur.trim());
  return items;
}

/** Python/Hydra's range: start, start+step, ... while below stop (above, for a negative step). */
function rangeValues(text: string, args: string[]): string[] {
  const nums = args.map(Number);
  if (args.length < 1 || args.length > 3 || nums.some((n) => !Number.isFinite(n)))
    throw bad(
      text,
      'range() takes one to three numbers: range(stop), range(start, stop) or range(start, stop, step)',
    );
  const [start, stop, step] =
    nums.length === 1 ? [0, nums[0] ?? 0, 1] : [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 1];
  if (step === 0) throw bad(text, 'range() step must not be 0');
  const floats = args.some((a) => /[.eE]/.test(a));
  const values: string[] = [];
  const eps = Math.abs(step) * 1e-9;
  for (let i = 0; ; i++) {
    // start + i*step, not repeated addition, and 12 significant digits: 0.3, not 0.30000000000000004
    const v = Number((start + i * step).toPrecision(12));
    if (step > 0 ? v >= stop - eps : v <= stop + eps) break;
    if (values.length >= 100_000) throw bad(text, 'range() gives more than 100,000 values');
    values.push(floats && Number.isInteger(v) ? `${String(v)}.0` : String(v));
  }
  if (values.length === 0) throw bad(text, 'range() is empty');
  return values;
}

/** The grid of a list of overrides: every combination of their values, first override slowest. */
export function expandGrid(overrides: readonly Override[]): Assignment[][] {
  let grid: Assignment[][] = [[]];
  for (const o of overrides) {
    const next: Assignment[][] = [];
    for (const row of grid)
      for (const value of o.values) next.push([...row, { file: o.file, key: o.key, value }]);
    grid = next;
  }
  return grid;
}
