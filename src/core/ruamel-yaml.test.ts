import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  dumpYaml,
  stringScalar,
  YamlFloat,
  type YamlScalar,
  type YamlValue,
} from './ruamel-yaml.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/ruamel/', import.meta.url));
const SYSTEM_PYTHON = '/usr/bin/python3';

/** The input encoding of test/fixtures/ruamel/generate.py, turned back into a YamlValue. */
function decode(v: unknown): YamlValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') {
    return v;
  }
  if (Array.isArray(v)) return v.map(decode);
  const o = v as Record<string, unknown>;
  if ('$float' in o) {
    const f = o.$float;
    if (f === 'nan') return new YamlFloat(NaN);
    if (f === 'inf') return new YamlFloat(Infinity);
    if (f === '-inf') return new YamlFloat(-Infinity);
    return new YamlFloat(f as number);
  }
  if ('$int' in o) return BigInt(o.$int as string);
  if ('$map' in o) {
    const pairs = o.$map as [unknown, unknown][];
    return new Map(pairs.map(([k, val]) => [decode(k) as YamlScalar, decode(val)]));
  }
  return Object.fromEntries(Object.entries(o).map(([k, val]) => [k, decode(val)]));
}

interface Case {
  name: string;
  input: unknown;
}

const cases: Case[] = readFileSync(`${FIXTURES}cases.jsonl`, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Case);

describe('dumpYaml: bytes from ruamel.yaml 0.17.21 round-trip dump, as DVC writes dvc.lock', () => {
  it('has the whole corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const expected = readFileSync(`${FIXTURES}expected/${name}.golden`);
    const actual = dumpYaml(decode(c.input));
    expect(actual).toBe(expected.toString('utf8'));
    expect(Buffer.from(actual, 'utf8').equals(expected)).toBe(true);
  });
});

describe('stringScalar: one scalar as ruamel.yaml 0.17.21 styles it', () => {
  it('keeps plain what reads back as a string and quotes the rest', () => {
    expect(stringScalar("it's", 2, 5)).toBe("it's");
    expect(stringScalar('yes', 2, 5)).toBe('yes'); // YAML 1.2: not a boolean
    expect(stringScalar('true', 2, 5)).toBe("'true'");
    expect(stringScalar('1e3', 2, 5)).toBe("'1e3'");
    expect(stringScalar('a: b', 2, 5)).toBe("'a: b'");
    expect(stringScalar("it's ", 2, 5)).toBe('"it\'s "');
    expect(stringScalar('a\tb', 2, 5)).toBe('"a\\tb"');
    expect(stringScalar('données/été.csv', 2, 5)).toBe('données/été.csv');
  });

  it('folds at a single space once the column passes 80', () => {
    const words = Array.from({ length: 20 }, () => 'word').join(' ');
    expect(stringScalar(words, 2, 5)).toBe(
      `${Array.from({ length: 16 }, () => 'word').join(' ')}\n  word word word word`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Live cross-check against the real ruamel.yaml, when the system Python has it.

// CI (CAIRN_REQUIRE_TOOLS=1) installs python3-ruamel.yaml and must not skip this.
const haveRuamel =
  process.env.CAIRN_REQUIRE_TOOLS === '1' ||
  spawnSync(SYSTEM_PYTHON, ['-c', 'import ruamel.yaml'], { stdio: 'ignore' }).status === 0;

/** mulberry32: a small seeded PRNG, so failures reproduce. */
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

const PIECES = [
  ...Array.from('abcxyzABZ0123456789'),
  ...Array.from(' '.repeat(12)),
  ...Array.from('-:#\'"!&*%@|>?,[]{}~.=<+_/\\`$^()'),
  '\t',
  '\n',
  'é',
  'ß',
  '数',
  '😀',
  '\u00a0',
  '\u2028',
  '\x85',
  '\x07',
  '\ufeff',
  'true',
  'null',
  'yes',
  '1e3',
  '0x1F',
  '0o17',
  '.5',
  '2024-01-01',
  '- ',
  ': ',
  ' #',
  '---',
  '...',
  'python src/train.py ',
  'data/features/',
];

function randomString(rand: () => number): string {
  const r = rand();
  const length = r < 0.1 ? 0 : r < 0.6 ? Math.floor(rand() * 6) + 1 : Math.floor(rand() * 60) + 10;
  let s = '';
  for (let i = 0; i < length; i++) s += PIECES[Math.floor(rand() * PIECES.length)] ?? '';
  return s;
}

function randomFloat(rand: () => number): unknown {
  const r = rand();
  if (r < 0.05) return { $float: 'nan' };
  if (r < 0.1) return { $float: rand() < 0.5 ? 'inf' : '-inf' };
  if (r < 0.3) return { $float: Math.floor(rand() * 1000) / (rand() < 0.5 ? 1 : 10) };
  return { $float: (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20) };
}

function randomScalar(rand: () => number): unknown {
  const r = rand();
  if (r < 0.6) return randomString(rand);
  if (r < 0.7) return Math.floor((rand() - 0.5) * 2 ** 40);
  if (r < 0.8) return randomFloat(rand);
  if (r < 0.9) return rand() < 0.5;
  return null;
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth >= 3 || r < 0.4) return randomScalar(rand);
  const size = Math.floor(rand() * 5);
  if (r < 0.7) return Array.from({ length: size }, () => randomValue(rand, depth + 1));
  const keys = new Set<string>();
  for (let i = 0; i < size; i++) keys.add(rand() < 0.8 ? randomString(rand) : 'k'.repeat(120 + i));
  return { $map: [...keys].map((k) => [k, randomValue(rand, depth + 1)]) };
}

describe('dumpYaml: live cross-check with the system ruamel.yaml', () => {
  it.skipIf(!haveRuamel)(
    'matches ruamel.yaml byte for byte on ~200 random documents (seeded PRNG)',
    () => {
      // CAIRN_FUZZ_N / CAIRN_FUZZ_SEED widen the search locally.
      const rand = prng(Number(process.env.CAIRN_FUZZ_SEED ?? 0x5eed));
      const count = Number(process.env.CAIRN_FUZZ_N ?? 200);
      const inputs: unknown[] = [];
      for (let i = 0; i < count; i++) {
        // Mostly mappings, as DVC writes them; some bare strings in a list to stress styles.
        inputs.push(i % 4 === 0 ? [randomString(rand)] : randomValue(rand, 0));
      }
      const run = spawnSync(SYSTEM_PYTHON, [`${FIXTURES}generate.py`, '--stdin'], {
        input: JSON.stringify(inputs),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(run.stderr).toBe('');
      const expected = JSON.parse(run.stdout) as string[];
      expect(expected).toHaveLength(inputs.length);
      const mismatches = inputs
        .map((input, i) => ({ input, expected: expected[i], actual: dumpYaml(decode(input)) }))
        .filter((r) => r.actual !== r.expected);
      expect(mismatches.slice(0, 3)).toEqual([]);
    },
  );
});
