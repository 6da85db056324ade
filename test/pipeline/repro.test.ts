/** Scenarios for `cairn repro`, `status` and `dag` on pipelines, driving the built CLI. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { createSandbox, md5, writeTree, type Sandbox } from '../e2e/helpers.js';

const PIPELINE = `stages:
  prepare:
    cmd: mkdir -p prepared && cp data.csv prepared/train.csv && echo ran >> runs.log
    deps: [data.csv]
    outs: [prepared]
  train:
    cmd: |
      echo "lr \${train.lr}"
      cat prepared/train.csv > model.txt
      echo "\${train.lr}" >> model.txt
      echo '{"acc": 0.9}' > metrics.json
    deps: [prepared]
    params: [train.lr]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
  report:
    cmd: echo "$DVC_STAGE $CAIRN_STAGE $(basename $DVC_ROOT)" > report.txt
    deps: [data.csv]
    outs: [report.txt]
`;

async function pipeline(extra: Record<string, string> = {}): Promise<Sandbox> {
  const sb = await createSandbox();
  await writeTree(sb.root, {
    'data.csv': 'a,b\n1,2\n',
    'params.yaml': 'train:\n  lr: 0.1\n  epochs: 3\n',
    'dvc.yaml': PIPELINE,
    ...extra,
  });
  return sb;
}

const read = (sb: Sandbox, rel: string): string =>
  fs.existsSync(sb.path(rel)) ? fs.readFileSync(sb.path(rel), 'utf8') : '';

describe('cairn repro', () => {
  test('runs every stage once, writes dvc.lock as DVC 3 does, then is a no-op', async () => {
    await using sb = await pipeline();
    const first = await sb.cairnOk(['repro']);
    expect(first.stdout).toContain("Running stage 'prepare'");
    expect(read(sb, 'report.txt')).toBe('report report repo\n');
    const lock = read(sb, 'dvc.lock');
    expect(lock).toContain(
      [
        '  report:',
        '    cmd: echo "$DVC_STAGE $CAIRN_STAGE $(basename $DVC_ROOT)" > report.txt',
        '    deps:',
        '    - path: data.csv',
        '      hash: md5',
        `      md5: ${md5('a,b\n1,2\n')}`,
        '      size: 8',
        '    outs:',
        '    - path: report.txt',
        '      hash: md5',
        `      md5: ${md5('report report repo\n')}`,
        '      size: 19',
        '',
      ].join('\n'),
    );
    expect(lock).toContain('    params:\n      params.yaml:\n        train.lr: 0.1\n');
    // outputs are in the cache
    expect(
      fs.existsSync(sb.path(`.cairn/cache/files/md5/${md5('report report repo\n').slice(0, 2)}`)),
    ).toBe(true);
    const again = await sb.cairnOk(['repro']);
    expect(again.stdout).toContain("Stage 'prepare' didn't change, skipping");
    expect(again.stdout).toContain('0 ran');
    expect(read(sb, 'runs.log')).toBe('ran\n');
    expect((await sb.cairnOk(['status'])).stdout.trim()).toBe('Data and pipelines are up to date.');
    expect(fs.readdirSync(sb.path('.cairn/logs')).sort()).toEqual([
      'prepare.log',
      'report.log',
      'train.log',
    ]);
  });

  test('changing a param re-runs only the stages that depend on it; reverting hits the run-cache', async () => {
    await using sb = await pipeline();
    await sb.cairnOk(['repro']);
    await fsp.writeFile(sb.path('params.yaml'), 'train:\n  lr: 0.2\n  epochs: 3\n');
    const status = JSON.parse((await sb.cairnOk(['status', '--json'])).stdout) as unknown;
    expect(status).toEqual({
      train: [{ 'changed deps': { 'params.yaml': { 'train.lr': 'modified' } } }, 'changed command'],
    });
    const r = await sb.cairnOk(['repro']);
    expect(r.stdout).toContain("Stage 'prepare' didn't change, skipping");
    expect(r.stdout).toContain("Running stage 'train'");
    expect(r.stdout).toContain("Stage 'report' didn't change, skipping");
    await fsp.writeFile(sb.path('params.yaml'), 'train:\n  lr: 0.1\n  epochs: 3\n');
    const back = await sb.cairnOk(['repro']);
    expect(back.stdout).toContain("Stage 'train' is cached - skipping run, checking out outputs");
    expect(read(sb, 'model.txt')).toBe('a,b\n1,2\n0.1\n');
    expect(read(sb, 'metrics.json')).toBe('{"acc": 0.9}\n');
    // epochs is not tracked by any stage
    await fsp.writeFile(sb.path('params.yaml'), 'train:\n  lr: 0.1\n  epochs: 4\n');
    expect((await sb.cairnOk(['status'])).stdout.trim()).toBe('Data and pipelines are up to date.');
  });

  test('-s, --downstream, -f, --dry and --force-downstream choose the stages as DVC does', async () => {
    await using sb = await pipeline();
    await sb.cairnOk(['repro', 'prepare']);
    expect(fs.existsSync(sb.path('model.txt'))).toBe(false);
    const dry = await sb.cairnOk(['repro', '--dry']);
    expect(dry.stdout).toContain('> cat prepared/train.csv > model.txt');
    expect(fs.existsSync(sb.path('model.txt'))).toBe(false);
    await sb.cairnOk(['repro']);
    const forced = await sb.cairnOk(['repro', '-f', '-s', 'train', '--no-run-cache']);
    expect(forced.stdout).toContain("Running stage 'train'");
    expect(forced.stdout).not.toContain("stage 'prepare'");
    const down = await sb.cairnOk(['repro', '--downstream', 'prepare', '--force-downstream', '-f']);
    expect(down.stdout).toContain("Running stage 'prepare'");
    expect(down.stdout).toContain("'train'");
    expect(down.stdout).not.toContain("'report'");
    expect(read(sb, 'runs.log')).toBe('ran\nran\n');
  });

  test('a failing stage: -k continues with independent stages; the lock holds only completed ones', async () => {
    await using sb = await pipeline({
      'dvc.yaml': `stages:
  bad:
    cmd: echo partial > bad.txt && exit 3
    deps: [data.csv]
    outs: [bad.txt]
  after:
    cmd: cp bad.txt after.txt
    deps: [bad.txt]
    outs: [after.txt]
  good:
    cmd: cp data.csv good.txt
    deps: [data.csv]
    outs: [good.txt]
`,
    });
    const r = await sb.cairn(['repro', '-k', '-j', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "stage 'bad' (dvc.yaml:2:3) failed: `echo partial > bad.txt && exit 3` exited with code 3",
    );
    expect(r.stdout).toContain("Stage 'after' skipped: an upstream stage failed");
    const lock = read(sb, 'dvc.lock');
    expect(lock).toContain('  good:');
    expect(lock).not.toContain('  bad:');
    expect(read(sb, 'good.txt')).toBe('a,b\n1,2\n');
    const without = await sb.cairn(['repro', '-j', '1']);
    expect(without.code).toBe(1);
  });

  test('bad input: unknown target, missing dep, missing param, missing output, unknown var, cycle, duplicate output', async () => {
    await using sb = await pipeline();
    const unknown = await sb.cairn(['repro', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("'nope' does not exist");

    const cases: [string, string][] = [
      [
        'stages:\n  s:\n    cmd: "true"\n    deps: [missing.txt]\n    outs: [o]\n',
        "dependency 'missing.txt' does not exist",
      ],
      [
        'stages:\n  s:\n    cmd: "true"\n    params: [train.nope]\n    outs: [o]\n',
        "param 'train.nope' not found in 'params.yaml'",
      ],
      [
        'stages:\n  s:\n    cmd: "true"\n    deps: [data.csv]\n    outs: [never.txt]\n',
        "stage 's' (dvc.yaml:2:3) did not produce 'never.txt'",
      ],
      ['stages:\n  s:\n    cmd: echo ${nope}\n', "dvc.yaml:3:15: Could not find 'nope'"],
      [
        'stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n',
        "the pipeline has a cycle: 'a' -> 'b' -> 'a'",
      ],
      [
        'stages:\n  a:\n    cmd: x\n    outs: [o.txt]\n  b:\n    cmd: y\n    outs: [o.txt]\n',
        "output 'o.txt' is specified in stages: 'a' (dvc.yaml:4:12) and 'b' (dvc.yaml:7:12)",
      ],
      [
        'stages:\n  a:\n    cmd: x\n    outs: [dir]\n  b:\n    cmd: y\n    outs: [dir/o.txt]\n',
        "output 'dir/o.txt' of stage 'b' (dvc.yaml:7:12) is inside output 'dir' of stage 'a'",
      ],
    ];
    for (const [yaml, message] of cases) {
      await fsp.writeFile(sb.path('dvc.yaml'), yaml);
      const r = await sb.cairn(['repro']);
      expect(r.code, yaml + r.stderr).toBe(1);
      expect(r.stderr, yaml).toContain(message);
    }
  });

  test('kill -9 mid-stage: the next repro re-runs that stage and nothing else that was complete', async () => {
    await using sb = await pipeline({
      'dvc.yaml': `stages:
  first:
    cmd: cp data.csv first.txt && echo first >> runs.log
    deps: [data.csv]
    outs: [first.txt]
  slow:
    cmd: echo slow >> runs.log && sleep 30 && cp first.txt slow.txt
    deps: [first.txt]
    outs: [slow.txt]
`,
    });
    const child = sb.spawnCairn(['repro']);
    for (let i = 0; i < 200 && !read(sb, 'runs.log').includes('slow'); i++) await sleep(50);
    child.kill('SIGKILL');
    await child.exited;
    expect(read(sb, 'dvc.lock')).toContain('  first:');
    const r = await sb.cairnOk(['repro', '--dry']);
    expect(r.stdout).toContain("Stage 'first' didn't change, skipping");
    expect(r.stdout).toContain("Running stage 'slow'");
  });

  /** [start, end] in ms of each stage that wrote `<name>.span` ("start end" from date +%s%3N). */
  const spans = (sb: Sandbox, names: string[]): [number, number][] =>
    names.map((n) => {
      const [a = 0, b = 0] = read(sb, `${n}.span`).trim().split(/\s+/).map(Number);
      return [a, b];
    });
  const overlap = ([a0, a1]: [number, number], [b0, b1]: [number, number]): boolean =>
    a0 < b1 && b0 < a1;
  const timed = (name: string, body: string): string =>
    `s=$(date +%s%3N) && sleep 1 && ${body} && echo "$s $(date +%s%3N)" > ${name}.span`;

  test('-j 4 runs the independent stages of a diamond side by side', async () => {
    const mids = ['a', 'b', 'c', 'd'];
    const stages = mids
      .map(
        (n) =>
          `  ${n}:\n    cmd: ${timed(n, `echo ${n} > ${n}.txt`)}\n    deps: [data.csv]\n    outs: [${n}.txt]\n`,
      )
      .join('');
    await using sb = await pipeline({
      'dvc.yaml': `stages:\n${stages}  join:\n    cmd: cat a.txt b.txt c.txt d.txt > all.txt\n    deps: [a.txt, b.txt, c.txt, d.txt]\n    outs: [all.txt]\n`,
    });
    await sb.cairnOk(['repro', '-j', '4']);
    expect(read(sb, 'all.txt')).toBe('a\nb\nc\nd\n');
    const s = spans(sb, mids);
    // all four ran at once: every pair of sleeps overlaps
    for (const x of s) for (const y of s) expect(overlap(x, y)).toBe(true);
  });

  test('two repros on disjoint targets run at once; overlapping ones wait with a message', async () => {
    await using sb = await pipeline({
      'dvc.yaml': `stages:
  left:
    cmd: ${timed('left', 'cp data.csv left.txt')}
    deps: [data.csv]
    outs: [left.txt]
  right:
    cmd: ${timed('right', 'cp data.csv right.txt')}
    deps: [data.csv]
    outs: [right.txt]
`,
    });
    const [l, r] = await Promise.all([
      sb.cairnOk(['repro', 'left']),
      sb.cairnOk(['repro', 'right']),
    ]);
    const [left, right] = spans(sb, ['left', 'right']) as [[number, number], [number, number]];
    expect(overlap(left, right)).toBe(true);
    expect(l.stderr + r.stderr).not.toContain('Waiting');
    expect(read(sb, 'dvc.lock')).toMatch(/ {2}left:[\s\S]* {2}right:|right:[\s\S]*left:/);
    fs.rmSync(sb.path('.cairn/logs/left.log'));
    const a = sb.spawnCairn(['repro', '-f', 'left']);
    for (let i = 0; i < 100 && !fs.existsSync(sb.path('.cairn/logs/left.log')); i++)
      await sleep(50);
    await sleep(200);
    const b = await sb.cairnOk(['repro', '-f', 'left']);
    const first = await a.exited;
    // whichever started second waited for the other
    expect(first.stderr + b.stderr).toContain("Waiting for lock 'left.txt'");
  });

  test('a DVC 2.x lock (no hash:, md5-dos2unix) is not reported as modified', async () => {
    const crlf = 'a,b\r\n1,2\r\n';
    await using sb = await pipeline({
      'data.csv': crlf,
      'dvc.yaml':
        'stages:\n  copy:\n    cmd: cp data.csv out.csv\n    deps: [data.csv]\n    outs: [out.csv]\n',
      'out.csv': crlf,
    });
    const legacy = md5('a,b\n1,2\n');
    await fsp.mkdir(sb.path(`.cairn/cache/${legacy.slice(0, 2)}`), { recursive: true });
    await fsp.writeFile(sb.path(`.cairn/cache/${legacy.slice(0, 2)}/${legacy.slice(2)}`), crlf);
    await fsp.writeFile(
      sb.path('dvc.lock'),
      `schema: '2.0'\nstages:\n  copy:\n    cmd: cp data.csv out.csv\n    deps:\n    - path: data.csv\n      md5: ${legacy}\n      size: 10\n    outs:\n    - path: out.csv\n      md5: ${legacy}\n      size: 10\n`,
    );
    expect((await sb.cairnOk(['status'])).stdout.trim()).toBe('Data and pipelines are up to date.');
    expect((await sb.cairnOk(['repro'])).stdout).toContain("Stage 'copy' didn't change, skipping");
  });

  test('dag prints text, dot and mermaid; --json streams events', async () => {
    await using sb = await pipeline();
    expect((await sb.cairnOk(['dag'])).stdout).toBe('prepare\ntrain    <- prepare\nreport\n');
    expect((await sb.cairnOk(['dag', '--dot', 'train'])).stdout).toBe(
      'strict digraph  {\n"prepare";\n"train";\n"prepare" -> "train";\n}\n',
    );
    expect((await sb.cairnOk(['dag', '--mermaid'])).stdout).toContain('\tnode1-->node2');
    const r = await sb.cairnOk(['--json', 'repro', 'report']);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toEqual([
      'stage-start',
      'stage-command',
      'lock-written',
      'stage-done',
      'summary',
    ]);
  });

  test('multi-line cmd: each line in its own shell, stopping at the first failure', async () => {
    await using sb = await pipeline({
      'dvc.yaml':
        'stages:\n  lines:\n    cmd: |\n      mkdir -p sub && cd sub\n      pwd > where.txt\n      false\n      echo never > never.txt\n    deps: [data.csv]\n    outs: [where.txt]\n',
    });
    const r = await sb.cairn(['repro']);
    expect(r.code).toBe(1);
    expect(read(sb, 'where.txt').trim()).toBe(sb.root);
    expect(fs.existsSync(sb.path('never.txt'))).toBe(false);
    expect(r.stderr).toContain('`false` exited with code 1');
  });

  test('foreach groups as targets, frozen, persist, --no-commit, --allow-missing, and status with .dvc data', async () => {
    await using sb = await pipeline({
      'dvc.yaml': `vars:
  - langs: [en, fr]
stages:
  gen:
    foreach: \${langs}
    do:
      cmd: echo \${item} > out-\${item}.txt
      deps: [data.csv]
      outs: ["out-\${item}.txt"]
  frozen:
    cmd: cat out-en.txt > frozen.txt
    deps: [out-en.txt]
    outs: [frozen.txt]
    frozen: true
  acc:
    cmd: echo x >> acc.txt
    deps: [data.csv]
    outs: [{acc.txt: {persist: true}}]
`,
      'raw.txt': 'raw\n',
    });
    await sb.cairnOk(['add', 'raw.txt']);
    const gen = await sb.cairnOk(['repro', 'gen']);
    expect(gen.stdout).toContain("Running stage 'gen@en'");
    expect(gen.stdout).toContain("Running stage 'gen@fr'");
    expect(gen.stdout).not.toContain("'acc'");
    // frozen: its outputs are missing, so repro verifies and fails rather than running it
    const frozen = await sb.cairn(['repro', 'frozen']);
    expect(frozen.stderr).toContain(
      "stage 'frozen' (dvc.yaml:10:3) is frozen and its outputs 'frozen.txt' are missing",
    );
    await fsp.writeFile(
      sb.path('dvc.yaml'),
      read(sb, 'dvc.yaml').replace('    frozen: true\n', ''),
    );
    await sb.cairnOk(['repro']);
    await sb.cairnOk(['repro', '-f', 'acc']);
    expect(read(sb, 'acc.txt')).toBe('x\nx\n');
    // changed data and a changed stage, in one status
    await fsp.writeFile(sb.path('raw.txt'), 'changed\n');
    await fsp.writeFile(sb.path('data.csv'), 'a,b\n3,4\n');
    const status = JSON.parse((await sb.cairnOk(['status', '--json'])).stdout) as Record<
      string,
      unknown
    >;
    expect(Object.keys(status).sort()).toEqual(['acc', 'gen@en', 'gen@fr', 'raw.txt.dvc']);
    expect(status['gen@en']).toEqual([{ 'changed deps': { 'data.csv': 'modified' } }]);
    // --no-commit: the lock is written but nothing new enters the cache
    const before = fs.readdirSync(sb.path('.cairn/cache/files/md5')).length;
    await sb.cairnOk(['repro', 'gen@en', '-s', '--no-commit']);
    expect(read(sb, 'dvc.lock')).toContain('    - path: out-en.txt');
    expect(fs.readdirSync(sb.path('.cairn/cache/files/md5')).length).toBe(before);
    // --allow-missing: a deleted output does not make its stage run
    fs.rmSync(sb.path('out-fr.txt'));
    await fsp.writeFile(sb.path('data.csv'), 'a,b\n1,2\n');
    await sb.cairnOk(['repro', 'gen@fr']);
    fs.rmSync(sb.path('out-fr.txt'));
    const missing = await sb.cairnOk(['repro', 'gen@fr', '--allow-missing']);
    expect(missing.stdout).toContain("Stage 'gen@fr' didn't change, skipping");
  });
});
