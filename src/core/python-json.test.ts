import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  compareCodePoints,
  PyFloat,
  pythonFloatRepr,
  pythonJsonDumps,
  pythonJsonString,
  type PyJson,
} from './python-json.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/python-json/', import.meta.url));
const SYSTEM_PYTHON = '/usr/bin/python3';

/** The input encoding of test/fixtures/python-json/generate.py, turned back into PyJson. */
function decode(v: unknown): PyJson {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') {
    return v;
  }
  if (Array.isArray(v)) return v.map(decode);
  const o = v as Record<string, unknown>;
  if ('$float' in o) {
    const f = o.$float;
    if (f === 'nan') return new PyFloat(NaN);
    if (f === 'inf') return new PyFloat(Infinity);
    if (f === '-inf') return new PyFloat(-Infinity);
    return new PyFloat(f as number);
  }
  if ('$int' in o) return BigInt(o.$int as string);
  return Object.fromEntries(Object.entries(o).map(([k, val]) => [k, decode(val)]));
}

function jsonl<T>(file: string): T[] {
  return readFileSync(`${FIXTURES}${file}`, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

interface DumpCase {
  name: string;
  input: unknown;
  expected: string;
}
interface FloatCase {
  value: number;
  repr: string;
}

describe('pythonJsonDumps: bytes from CPython json.dumps(x, sort_keys=True)', () => {
  const cases = jsonl<DumpCase>('cases.jsonl');

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(pythonJsonDumps(decode(c.input))).toBe(c.expected);
  });

  it('hashes the DVC golden directory to 1aca2c799df82929bbdd976557975546.dir', () => {
    // DVC tests/func/test_commit.py::test_commit_granular_dir: files whose content is their
    // own name. The manifest lists {md5, relpath} sorted by relpath and is hashed as bytes.
    const files = ['foo', 'bar', 'subdir/subfoo', 'subdir/subbar'];
    const entries = files
      .map((relpath) => ({ md5: md5(relpath.split('/').pop() ?? ''), relpath }))
      .sort((a, b) => compareCodePoints(a.relpath, b.relpath));
    expect(entries.find((e) => e.relpath === 'foo')?.md5).toBe('acbd18db4cc2f85cedef654fccc4a4d8');
    expect(entries.find((e) => e.relpath === 'bar')?.md5).toBe('37b51d194a7513e45b56f6524f2d51f2');
    const manifest = pythonJsonDumps(entries);
    expect(manifest).toBe(
      '[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, ' +
        '{"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}, ' +
        `{"md5": "${md5('subbar')}", "relpath": "subdir/subbar"}, ` +
        `{"md5": "${md5('subfoo')}", "relpath": "subdir/subfoo"}]`,
    );
    expect(`${md5(Buffer.from(manifest, 'utf8'))}.dir`).toBe(
      '1aca2c799df82929bbdd976557975546.dir',
    );
  });
});

describe('pythonFloatRepr: bytes from CPython repr(float)', () => {
  const floats = jsonl<FloatCase>('floats.jsonl');

  it('has the corpus', () => {
    expect(floats.length).toBeGreaterThan(400);
  });

  it('matches repr() for every recorded float', () => {
    const wrong = floats
      .map((f) => ({ value: f.value, expected: f.repr, actual: pythonFloatRepr(f.value) }))
      .filter((r) => r.actual !== r.expected);
    expect(wrong).toEqual([]);
  });

  it('spells the special values as repr() does', () => {
    expect(pythonFloatRepr(NaN)).toBe('nan');
    expect(pythonFloatRepr(Infinity)).toBe('inf');
    expect(pythonFloatRepr(-Infinity)).toBe('-inf');
    expect(pythonFloatRepr(-0)).toBe('-0.0');
  });
});

describe('pythonJsonString and compareCodePoints', () => {
  it('escapes as ensure_ascii does, with lowercase hex and surrogate pairs', () => {
    expect(pythonJsonString('é😀\x7f\u2028"\\\n')).toBe(
      '"\\u00e9\\ud83d\\ude00\\u007f\\u2028\\"\\\\\\n"',
    );
  });

  it('orders by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('\uff61', '😀')).toBeLessThan(0);
    expect(compareCodePoints('😀', '\uff61')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('b', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('x', 'x')).toBe(0);
    // a lone surrogate is its own code point, below U+E000 and below any pair
    expect(compareCodePoints('\ud800', '\ufeff')).toBeLessThan(0);
    expect(compareCodePoints('\ud800', '😀')).toBeLessThan(0);
    expect(compareCodePoints('\udfff', '\ud83d\ude00')).toBeLessThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Live cross-check against the system CPython.

const havePython =
  process.env.CAIRN_REQUIRE_TOOLS === '1' ||
  spawnSync(SYSTEM_PYTHON, ['-c', 'import json'], { stdio: 'ignore' }).status === 0;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [
  ...Array.from('abcXYZ0189 -_./:"\\\'{}[]'),
  '\t',
  '\n',
  '\x00',
  '\x1f',
  '\x7f',
  'é',
  '\u2028',
  '\ufeff',
  '\uff61',
  '😀',
  '𝄞',
  '\ud800',
];

function randomString(rand: () => number): string {
  let s = '';
  const length = Math.floor(rand() * 12);
  for (let i = 0; i < length; i++) s += CHARS[Math.floor(rand() * CHARS.length)] ?? '';
  return s;
}

function randomDouble(rand: () => number): number {
  const view = new DataView(new ArrayBuffer(8));
  for (;;) {
    view.setUint32(0, Math.floor(rand() * 2 ** 32));
    view.setUint32(4, Math.floor(rand() * 2 ** 32));
    const f = view.getFloat64(0);
    if (Number.isFinite(f)) return f;
  }
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth < 3 && r < 0.25) {
    return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  }
  if (depth < 3 && r < 0.5) {
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 5); i > 0; i--) {
      o[randomString(rand).replace(/^\$/, '_')] = randomValue(rand, depth + 1);
    }
    return o;
  }
  if (r < 0.7) return randomString(rand);
  if (r < 0.8) return { $float: rand() < 0.5 ? randomDouble(rand) : (rand() - 0.5) * 1e6 };
  if (r < 0.9) return Math.floor((rand() - 0.5) * 2 ** 50);
  return rand() < 0.5 ? null : rand() < 0.5;
}

describe('python-json: live cross-check with the system CPython', () => {
  it.skipIf(!havePython)(
    'matches json.dumps(sort_keys=True) and repr(float) on random input (seeded PRNG)',
    () => {
      const rand = prng(Number(process.env.CAIRN_FUZZ_SEED ?? 0x15));
      const count = Number(process.env.CAIRN_FUZZ_N ?? 200);
      const dumps = Array.from({ length: count }, () => randomValue(rand, 0));
      const floats = Array.from({ length: count }, () => randomDouble(rand));
      const run = spawnSync(SYSTEM_PYTHON, [`${FIXTURES}generate.py`, '--stdin'], {
        input: JSON.stringify({ dumps, floats }),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(run.stderr).toBe('');
      const expected = JSON.parse(run.stdout) as { dumps: string[]; floats: string[] };
      const wrongDumps = dumps
        .map((input, i) => ({
          input,
          expected: expected.dumps[i],
          actual: pythonJsonDumps(decode(input)),
        }))
        .filter((r) => r.actual !== r.expected);
      const wrongFloats = floats
        .map((value, i) => ({
          value,
          expected: expected.floats[i],
          actual: pythonFloatRepr(value),
        }))
        .filter((r) => r.actual !== r.expected);
      expect(wrongDumps.slice(0, 3)).toEqual([]);
      expect(wrongFloats.slice(0, 3)).toEqual([]);
    },
  );
});
