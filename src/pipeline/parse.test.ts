import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestError } from '../core/errors.js';
import { YamlFloat } from '../core/ruamel-yaml.js';
import { dictToFlags } from './interpolate.js';
import { parsePipeline } from './parse.js';
import { commandLines } from './stage.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-parse-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function parse(yaml: string, files: Record<string, string> = {}) {
  for (const [f, t] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), t);
  }
  return parsePipeline(path.join(dir, 'dvc.yaml'), yaml, { root: dir });
}

function failure(yaml: string, files: Record<string, string> = {}): ManifestError {
  try {
    parse(yaml, files);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError');
}

describe('dvc.yaml stages', () => {
  it('reads cmd, deps, params, outs with flags, frozen and always_changed', () => {
    const p = parse(
      [
        'stages:',
        '  train:',
        '    cmd: python train.py',
        '    wdir: src',
        '    deps: [data.csv, train.py]',
        '    params:',
        '      - lr',
        '      - other.yaml: [a.b]',
        '      - whole.json:',
        '    outs:',
        '      - model.bin',
        '      - cache_off: {cache: false, persist: true, desc: x}',
        '    metrics: [{m.json: {cache: false}}]',
        '    plots: [{loss.csv: {x: epoch, y: loss}}]',
        '    frozen: true',
        '    always_changed: false',
        '    desc: trains',
        '    meta: {owner: me}',
      ].join('\n'),
    );
    const s = p.stages[0];
    expect(s?.name).toBe('train');
    expect(s?.wdir).toBe(path.join(dir, 'src'));
    expect(s?.deps.map((d) => d.path)).toEqual(['data.csv', 'train.py']);
    expect(s?.params.map((x) => [x.path, x.keys])).toEqual([
      ['params.yaml', ['lr']],
      ['other.yaml', ['a.b']],
      ['whole.json', null],
    ]);
    expect(s?.outs.map((o) => [o.path, o.kind, o.cache, o.persist])).toEqual([
      ['model.bin', 'outs', true, false],
      ['cache_off', 'outs', false, true],
      ['m.json', 'metrics', false, false],
      ['loss.csv', 'plots', true, false],
    ]);
    expect(s?.outs[3]?.flags).toEqual({ x: 'epoch', y: 'loss' });
    expect(s?.frozen).toBe(true);
    expect(s?.meta).toEqual({ owner: 'me' });
  });

  it('splits a multi-line cmd string into lines but keeps list items whole', () => {
    expect(commandLines('echo a\ncd x\necho b\n')).toEqual(['echo a', 'cd x', 'echo b']);
    expect(commandLines(['echo "a\nb"', 'c'])).toEqual(['echo "a\nb"', 'c']);
  });
});

describe('interpolation (ports of dvc tests/func/parsing)', () => {
  it('keeps the type of a whole-string ${} and stringifies embedded ones', () => {
    const p = parse(
      [
        'vars:',
        '  - {n: 3, f: 1.0, b: true, name: x}',
        'stages:',
        '  s:',
        '    cmd: echo ${n} ${f} ${b} ${name}',
        '    frozen: ${b}',
        '    outs: ["out-${name}"]',
      ].join('\n'),
    );
    expect(p.stages[0]?.cmd).toBe('echo 3 1.0 true x');
    expect(p.stages[0]?.frozen).toBe(true);
    expect(p.stages[0]?.outs[0]?.path).toBe('out-x');
  });

  it('loads params.yaml automatically, vars files with key selection, and \\${ escapes', () => {
    const p = parse(
      [
        'vars: [extra.yaml:dims]',
        'stages:',
        '  s:',
        '    cmd: echo ${train.lr} ${dims[1]} ${models.a.size} \\${HOME}',
      ].join('\n'),
      {
        'params.yaml': 'train:\n  lr: 0.10\nmodels:\n  a: {size: 2}\n',
        'extra.yaml': 'dims: [8, 16]\nunused: 1\n',
      },
    );
    expect(p.stages[0]?.cmd).toBe('echo 0.1 16 2 ${HOME}');
  });

  it('expands a map in cmd to flags (test_cmd_dict)', () => {
    const flags = {
      foo: 'foo',
      bar: 2,
      string: 'spaced string',
      bool: true,
      'bool-false': false,
      list: [1, 2, 'foo', 'quoted string'],
      nested: { foo: 'foo' },
    };
    expect(dictToFlags(flags)).toBe(
      "--foo foo --bar 2 --string 'spaced string' --bool --list 1 2 foo 'quoted string' --nested.foo foo",
    );
    expect(dictToFlags(flags, { bool: 'boolean_optional', list: 'append' })).toBe(
      "--foo foo --bar 2 --string 'spaced string' --bool --no-bool-false --list 1 --list 2 --list foo --list 'quoted string' --nested.foo foo",
    );
  });

  it('generates foreach stages from lists and maps (test_foreach)', () => {
    const p = parse(
      [
        'stages:',
        '  build:',
        '    foreach: [us, gb]',
        '    do: {cmd: "echo ${item}", outs: ["${item}.txt"]}',
        '  train:',
        '    foreach:',
        '      small: {epochs: 1}',
        '      big: {epochs: 9}',
        '    do: {cmd: "echo ${key} ${item.epochs}"}',
        '  idx:',
        '    foreach: [{a: 1}, {a: 2}]',
        '    do: {cmd: "echo ${item.a}"}',
      ].join('\n'),
    );
    expect(p.stages.map((s) => [s.name, s.cmd])).toEqual([
      ['build@us', 'echo us'],
      ['build@gb', 'echo gb'],
      ['train@small', 'echo small 1'],
      ['train@big', 'echo big 9'],
      ['idx@0', 'echo 1'],
      ['idx@1', 'echo 2'],
    ]);
  });

  it('generates matrix stages with DVC names (test_matrix)', () => {
    const p = parse(
      [
        'stages:',
        '  build:',
        '    matrix:',
        '      os: [win, linux]',
        '      pyv: [3.7, 3.8]',
        '      dict: [{arg1: 1}]',
        '      list: [[1, 2], [3]]',
        '    cmd: echo ${item.os} ${item.pyv} ${item.dict.arg1} ${key}',
      ].join('\n'),
    );
    expect(p.stages.map((s) => s.name)).toEqual([
      'build@win-3.7-dict0-list0',
      'build@win-3.7-dict0-list1',
      'build@win-3.8-dict0-list0',
      'build@win-3.8-dict0-list1',
      'build@linux-3.7-dict0-list0',
      'build@linux-3.7-dict0-list1',
      'build@linux-3.8-dict0-list0',
      'build@linux-3.8-dict0-list1',
    ]);
    expect(p.stages[0]?.cmd).toBe('echo win 3.7 1 win-3.7-dict0-list0');
  });
});

describe('errors point at dvc.yaml:line:col', () => {
  it('an unknown ${var}', () => {
    const e = failure('stages:\n  s:\n    cmd: echo ${missing.key}\n');
    expect(e.message).toContain("dvc.yaml:3:15: Could not find 'missing.key'");
  });
  it('a key defined twice in vars', () => {
    const e = failure('vars:\n  - {a: 1}\n  - {a: 2}\nstages: {}\n');
    expect(e.message).toMatch(/dvc\.yaml:3:5: cannot redefine 'a' from 'vars\[1\]'/);
  });
  it('a key in vars that params.yaml already defines', () => {
    const e = failure('vars:\n  - {lr: 1}\nstages: {}\n', { 'params.yaml': 'lr: 2\n' });
    expect(e.message).toContain("already exists in 'params.yaml'");
  });
  it('an unknown stage key, a duplicate YAML key, a missing cmd', () => {
    expect(failure('stages:\n  s:\n    cmd: a\n    depz: []\n').message).toMatch(
      /dvc\.yaml:4:5: unknown key 'depz' in stage 's'/,
    );
    expect(failure('stages:\n  s:\n    cmd: a\n    cmd: b\n').message).toMatch(/dvc\.yaml:4:5:/);
    expect(failure('stages:\n  s:\n    deps: [a]\n').message).toMatch(
      /dvc\.yaml:3:5: stage 's' has no `cmd`/,
    );
  });
  it('a list embedded in a string', () => {
    const e = failure('vars: [{l: [1]}]\nstages:\n  s:\n    cmd: echo ${l}\n');
    expect(e.message).toContain("Cannot interpolate data of type 'list'");
  });
});

describe('params files', () => {
  it('reads TOML and JSON through vars', () => {
    const p = parse('vars: [p.toml, p.json]\nstages:\n  s:\n    cmd: echo ${t.a} ${j}\n', {
      'p.toml': '[t]\na = 1.5\n',
      'p.json': '{"j": "x"}',
    });
    expect(p.stages[0]?.cmd).toBe('echo 1.5 x');
  });
  it('keeps floats as floats', () => {
    const p = parse('vars: [{f: 2.0}]\nstages:\n  s:\n    cmd: echo\n    meta: ${f}\n');
    expect(p.stages[0]?.meta).toEqual(new YamlFloat(2));
  });
});
