import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { YamlFloat } from '../core/ruamel-yaml.js';
import { parseLockFile, serializeLockFile, type LockEntry, type LockItem } from './lockfile.js';
import { runCacheKey, runCacheValue } from './run-cache.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const item = (p: string, content: string): LockItem => ({
  path: p,
  hash: 'md5',
  md5: md5(content),
  size: Buffer.byteLength(content),
  nfiles: undefined,
  isexec: false,
});

describe('run-cache keys (golden: DVC tests/unit/stage/test_cache.py)', () => {
  it('test_stage_cache: key c7a85d71…4838, value 5e282402…0501', () => {
    // tmp_dir.gen("dep", "dep"); tmp_dir.gen("script.py", 'open("out", "w+").write("out"); ')
    // dvc.run(cmd="python script.py", deps=["script.py", "dep"], outs=["out"])
    const entry: LockEntry = {
      cmd: 'python script.py',
      deps: [item('script.py', 'open("out", "w+").write("out"); '), item('dep', 'dep')],
      params: new Map(),
      outs: [item('out', 'out')],
    };
    expect(runCacheKey(entry)).toBe(
      'c7a85d71de1912c43d9c5b6218c71630d6277e8fc11e4ccf5e12b3c202234838',
    );
    expect(runCacheValue(entry)).toBe(
      '5e2824029f8da9ef6c57131a638ceb65f27c02f16c85d71e85671c27daed0501',
    );
  });

  it('test_stage_cache_params: key 8fdb377d…, value 9ce1963a…', () => {
    // params.yaml "foo: 1\nbar: 2", myparams.yaml "baz: 3\nqux: 4", params=["foo,bar", "myparams.yaml:baz,qux"]
    const entry: LockEntry = {
      cmd: 'python script.py',
      deps: [],
      params: new Map([
        ['params.yaml', { bar: 2, foo: 1 }],
        ['myparams.yaml', { baz: 3, qux: 4 }],
      ]),
      outs: [item('out', 'out')],
    };
    expect(runCacheKey(entry).startsWith('8fdb377d')).toBe(true);
    expect(runCacheValue(entry).startsWith('9ce1963a')).toBe(true);
  });
});

describe('dvc.lock text (DVC 3 layout: tests/func/test_lockfile.py key order)', () => {
  it('writes schema, stage keys cmd/deps/params/outs, items path/hash/md5/size/nfiles sorted', () => {
    const lock = new Map<string, LockEntry>([
      [
        'prepare',
        {
          cmd: 'python src/prepare.py data/data.xml',
          deps: [item('src/prepare.py', 'x'), { ...item('data/data.xml', 'y'), size: 14445097 }],
          params: new Map([
            ['params.yaml', { 'prepare.split': new YamlFloat(0.2), 'prepare.seed': 20170428 }],
          ]),
          outs: [
            {
              path: 'data/prepared',
              hash: 'md5',
              md5: '153aad06d376b6595932470e459ef42a.dir',
              size: 8437363,
              nfiles: 2,
              isexec: false,
            },
          ],
        },
      ],
      [
        'train',
        {
          cmd: ['echo a', 'echo b'],
          deps: [],
          params: new Map([
            ['other.json', { b: 1, a: [1, 2] }],
            ['params.yaml', { lr: new YamlFloat(1) }],
          ]),
          outs: [{ ...item('run.sh', ''), isexec: true }],
        },
      ],
    ]);
    const text = serializeLockFile(lock);
    expect(text).toBe(
      [
        "schema: '2.0'",
        'stages:',
        '  prepare:',
        '    cmd: python src/prepare.py data/data.xml',
        '    deps:',
        '    - path: data/data.xml',
        '      hash: md5',
        `      md5: ${md5('y')}`,
        '      size: 14445097',
        '    - path: src/prepare.py',
        '      hash: md5',
        `      md5: ${md5('x')}`,
        '      size: 1',
        '    params:',
        '      params.yaml:',
        '        prepare.seed: 20170428',
        '        prepare.split: 0.2',
        '    outs:',
        '    - path: data/prepared',
        '      hash: md5',
        '      md5: 153aad06d376b6595932470e459ef42a.dir',
        '      size: 8437363',
        '      nfiles: 2',
        '  train:',
        '    cmd:',
        '    - echo a',
        '    - echo b',
        '    params:',
        '      params.yaml:',
        '        lr: 1.0',
        '      other.json:',
        '        a:',
        '        - 1',
        '        - 2',
        '        b: 1',
        '    outs:',
        '    - path: run.sh',
        '      hash: md5',
        `      md5: ${md5('')}`,
        '      size: 0',
        '      isexec: true',
        '',
      ].join('\n'),
    );
    const back = parseLockFile('dvc.lock', text);
    expect(serializeLockFile(back)).toBe(text);
  });

  it('reads a DVC 2.x entry (no hash key) as legacy', () => {
    const lock = parseLockFile(
      'dvc.lock',
      "schema: '2.0'\nstages:\n  prepare:\n    cmd: x\n    deps:\n    - path: data.xml\n      md5: a304afb96060aad90176268345e10355\n      size: 37891850\n",
    );
    expect(lock.get('prepare')?.deps[0]?.hash).toBeUndefined();
    expect(serializeLockFile(lock)).toContain('    - path: data.xml\n      md5: a304afb9');
  });
});

describe('real-world lock (iterative/example-get-started, DVC 2.x)', () => {
  it('round-trips byte for byte', async () => {
    const fs = await import('node:fs');
    const file = new URL(
      '../../test/fixtures/pipeline/example-get-started.2x.dvc.lock',
      import.meta.url,
    );
    const text = fs.readFileSync(file, 'utf8');
    expect(serializeLockFile(parseLockFile('dvc.lock', text))).toBe(text);
  });
});

describe('dvc.lock against ruamel.yaml itself (test/fixtures/pipeline/complex.dvc.lock)', () => {
  const item = (
    p: string,
    md5sum: string,
    size: number,
    extra: Partial<LockItem> = {},
  ): LockItem => ({
    path: p,
    hash: 'md5',
    md5: md5sum,
    size,
    nfiles: undefined,
    isexec: false,
    ...extra,
  });
  const lock = new Map<string, LockEntry>([
    [
      'prepare@en-us',
      {
        cmd: 'python src/prepare.py --input data/raw/really/long/path/to/the/data/file.xml --output data/prepared --seed 20170428',
        deps: [item('data/raw', 'a304afb96060aad90176268345e10355.dir', 37891850, { nfiles: 3 })],
        params: new Map([
          [
            'params.yaml',
            { 'prepare.split': new YamlFloat(0.2), 'prepare.flag': true, 'prepare.name': '2.0' },
          ],
          [
            'conf/extra.toml',
            { nested: { list: [1, new YamlFloat(2.5), 'x'], off: null }, '10': 'ten' },
          ],
        ]),
        outs: [
          item('data/prepared', '20b786b6e6f80e2b3fcf17827ad18597.dir', 23861319, { nfiles: 2 }),
        ],
      },
    ],
    [
      'train',
      {
        cmd: 'echo "lr 0.1"\ncat prepared/train.csv > model.txt\necho done\n',
        deps: [item('données/é.csv', '51549a1c87b182ebdd785704f56ffaf1', 1581)],
        params: new Map(),
        outs: [item('run.sh', '61c592707fd1b33e27819c87cf93f80a', 2391, { isexec: true })],
      },
    ],
    ['list', { cmd: ['echo a', 'yes: no', "it's"], deps: [], params: new Map(), outs: [] }],
  ]);
  const fixture = new URL('../../test/fixtures/pipeline/complex.dvc.lock', import.meta.url);

  it('matches the committed golden bytes', async () => {
    const fs = await import('node:fs');
    expect(serializeLockFile(lock)).toBe(fs.readFileSync(fixture, 'utf8'));
  });

  it('matches a live ruamel.yaml dump where Debian python3-ruamel.yaml is installed', async () => {
    const { spawnSync } = await import('node:child_process');
    const encode = (v: unknown): unknown => {
      if (v instanceof YamlFloat) return { $float: v.value };
      if (v instanceof Map)
        return {
          $map: [...(v as Map<unknown, unknown>).entries()].map(([k, x]) => [k, encode(x)]),
        };
      if (Array.isArray(v)) return (v as unknown[]).map(encode);
      if (v !== null && typeof v === 'object')
        return { $map: Object.entries(v).map(([k, x]) => [k, encode(x)]) };
      return v;
    };
    const { entryValue } = await import('./lockfile.js');
    const doc = new Map<string, unknown>([
      ['schema', '2.0'],
      ['stages', new Map([...lock].map(([n, e]) => [n, entryValue(e)]))],
    ]);
    const script = new URL('../../test/fixtures/ruamel/generate.py', import.meta.url).pathname;
    const r = spawnSync('/usr/bin/python3', [script, '--stdin'], {
      input: JSON.stringify([encode(doc)]),
      encoding: 'utf8',
    });
    if (r.error !== undefined || r.status !== 0) return; // no ruamel here: the golden file covers it

    expect(serializeLockFile(lock)).toBe((JSON.parse(r.stdout) as string[])[0]);
  });
});
