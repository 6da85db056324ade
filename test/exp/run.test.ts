/**
 * `cairn exp run` against real git: DVC's ref layout and commit shape, sweeps, params added,
 * the workspace and index untouched, and a `kill -9` that leaves nothing half-written.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { expRefs, pipelineRepo, tempWorktrees } from './setup.js';

test('an experiment is one commit on the baseline under refs/exps/<b[:2]>/<b[2:]>/<name>, and the workspace and index are untouched', async () => {
  const { sb, baseline } = await pipelineRepo();
  await using _ = sb;
  // An uncommitted change to a tracked file goes into the experiment, and stays uncommitted here.
  fs.appendFileSync(sb.path('train.sh'), '# tuned\n');
  const statusBefore = await sb.git(['status', '--porcelain']);
  const indexBefore = fs.readFileSync(sb.path('.git/index'));
  const paramsBefore = fs.readFileSync(sb.path('params.yaml'), 'utf8');

  const r = await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.25', '-n', 'first']);
  expect(r.stdout).toContain("Ran experiment 'first'");

  expect(fs.readFileSync(sb.path('.git/index'))).toEqual(indexBefore);
  expect(fs.readFileSync(sb.path('params.yaml'), 'utf8')).toBe(paramsBefore);
  expect(fs.existsSync(sb.path('model.bin'))).toBe(false);
  expect(fs.existsSync(sb.path('dvc.lock'))).toBe(false);
  expect(await sb.git(['status', '--porcelain'])).toBe(statusBefore);

  const ref = `refs/exps/${baseline.slice(0, 2)}/${baseline.slice(2)}/first`;
  const commit = (await expRefs(sb)).get(ref);
  expect(commit).toMatch(/^[0-9a-f]{40}$/);
  const raw = await sb.git(['cat-file', '-p', commit ?? '']);
  expect(raw.split('\n').filter((l) => l.startsWith('parent '))).toEqual([`parent ${baseline}`]);
  expect(raw).toMatch(/\n\ndvc: commit experiment [0-9a-f]{64}\n$/);

  const show = (file: string) => sb.git(['show', `${commit ?? ''}:${file}`]);
  // The param changed in place: its comment and the rest of the file kept.
  expect(await show('params.yaml')).toBe(paramsBefore.replace('lr: 0.5 #', 'lr: 0.25 #'));
  expect(await show('train.sh')).toContain('# tuned');
  expect(JSON.parse(await show('metrics.json'))).toEqual({ loss: 0.75, epochs: 3 });
  const lock = await show('dvc.lock');
  expect(lock).toContain('lr: 0.25');
  // model.bin is DVC-tracked: gitignored in the commit, in the shared cache by its md5.
  const files = (await sb.git(['ls-tree', '-r', '--name-only', commit ?? ''])).split('\n');
  expect(files).not.toContain('model.bin');
  expect(files).not.toContain('.cairn/logs/train.log');
  const md5 = /path: model.bin\n\s+hash: md5\n\s+md5: ([0-9a-f]{32})/.exec(lock)?.[1] ?? '';
  expect(
    fs.readFileSync(sb.path(`.cairn/cache/files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`), 'utf8'),
  ).toBe('model-0.25\n');

  // No temp worktree left behind.
  expect(tempWorktrees(sb)).toEqual([]);
  expect((await sb.git(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);

  // The same name again is refused; --force replaces it.
  const again = await sb.cairn(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'first']);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("experiment 'first' already exists");
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'first', '--force']);
  expect((await expRefs(sb)).get(ref)).not.toBe(commit);
});

test('a sweep expands to a grid of experiments with generated names; a key params.yaml lacks is added, and said so', async () => {
  const { sb } = await pipelineRepo();
  await using _ = sb;
  const r = await sb.cairnOk([
    'exp',
    'run',
    '-S',
    'train.lr=range(0.1,0.4,0.1)',
    '-S',
    'train.epochs=1,2',
    '-S',
    'train.dropout=0.2',
  ]);
  expect(r.stderr).toContain('params.yaml:train.dropout was not in the params file: added it');
  const show = await sb.cairnOk(['exp', 'show', '--json']);
  const data = JSON.parse(show.stdout) as {
    groups: {
      experiments: {
        name: string;
        params: Record<string, Record<string, unknown>>;
        metrics: Record<string, Record<string, unknown>>;
      }[];
    }[];
  };
  const exps = data.groups[0]?.experiments ?? [];
  expect(exps).toHaveLength(6);
  for (const e of exps) expect(e.name).toMatch(/^[a-z]+-[a-z]+(-\d+)?$/);
  expect(new Set(exps.map((e) => e.name)).size).toBe(6);
  const points = exps
    .map((e) => {
      const p = e.params['params.yaml'] ?? {};
      return `${String(p['train.lr'])}/${String(p['train.epochs'])}/${String(p['train.dropout'])}`;
    })
    .sort();
  expect(points).toEqual([
    '0.1/1/0.2',
    '0.1/2/0.2',
    '0.2/1/0.2',
    '0.2/2/0.2',
    '0.3/1/0.2',
    '0.3/2/0.2',
  ]);
  for (const e of exps)
    expect(e.metrics['metrics.json']?.loss).toBeCloseTo(
      1 - Number(e.params['params.yaml']?.['train.lr']),
      6,
    );
});

test('kill -9 during an experiment leaves no ref and an untouched workspace; the next run clears the temp worktree', async () => {
  const { sb } = await pipelineRepo();
  await using _ = sb;
  const paramsBefore = fs.readFileSync(sb.path('params.yaml'), 'utf8');
  const statusBefore = await sb.git(['status', '--porcelain']);
  const run = sb.spawnCairn(['exp', 'run', '-S', 'train.sleep=60', '-n', 'slow']);
  const deadline = Date.now() + 60_000;
  while (!run.stdout().includes('> sleep 60') && Date.now() < deadline) await sleep(50);
  expect(run.stdout()).toContain('> sleep 60');
  expect(tempWorktrees(sb)).toHaveLength(1);
  run.kill('SIGKILL');
  const ended = await run.exited;
  expect(ended.signal).toBe('SIGKILL');

  expect([...(await expRefs(sb)).keys()]).toEqual([]);
  expect(fs.readFileSync(sb.path('params.yaml'), 'utf8')).toBe(paramsBefore);
  expect(await sb.git(['status', '--porcelain'])).toBe(statusBefore);
  expect(tempWorktrees(sb)).toHaveLength(1); // left by the killed run

  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.4', '-n', 'after']);
  expect(tempWorktrees(sb)).toEqual([]);
  expect((await sb.git(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
  expect([...(await expRefs(sb)).keys()].map((r) => r.split('/').pop())).toEqual(['after']);
});

test('--no-temp runs in the workspace, as DVC does by default, and still commits the experiment on the baseline', async () => {
  const { sb, baseline } = await pipelineRepo();
  await using _ = sb;
  await sb.cairnOk(['exp', 'run', '--no-temp', '-S', 'train.lr=0.125', '-n', 'here']);
  expect(fs.readFileSync(sb.path('params.yaml'), 'utf8')).toContain('lr: 0.125 # learning rate');
  expect(JSON.parse(fs.readFileSync(sb.path('metrics.json'), 'utf8'))).toEqual({
    loss: 0.875,
    epochs: 3,
  });
  expect(fs.readFileSync(sb.path('model.bin'), 'utf8')).toBe('model-0.125\n');
  const commit =
    (await expRefs(sb)).get(`refs/exps/${baseline.slice(0, 2)}/${baseline.slice(2)}/here`) ?? '';
  expect((await sb.git(['rev-parse', `${commit}^`])).trim()).toBe(baseline);
  expect(await sb.git(['show', `${commit}:metrics.json`])).toContain('"loss": 0.8750');
  // The user's index was not used to build it.
  expect(await sb.git(['diff', '--cached', '--name-only'])).toBe('');
});

test('bad input: a malformed -S, a sweep in the workspace, a repository without commits', async () => {
  const { sb } = await pipelineRepo();
  await using _ = sb;
  const noEq = await sb.cairn(['exp', 'run', '-S', 'train.lr']);
  expect(noEq.code).toBe(1);
  expect(noEq.stderr).toContain("-S 'train.lr': no key=value");
  const badRange = await sb.cairn(['exp', 'run', '-S', 'train.lr=range(a,b)']);
  expect(badRange.code).toBe(1);
  expect(badRange.stderr).toContain('range() takes one to three numbers');
  const sweepHere = await sb.cairn(['exp', 'run', '--no-temp', '-S', 'train.lr=0.1,0.2']);
  expect(sweepHere.code).toBe(1);
  expect(sweepHere.stderr).toContain('cannot run in the workspace');
  const badName = await sb.cairn(['exp', 'run', '-n', 'a/b']);
  expect(badName.code).toBe(1);
  expect(badName.stderr).toContain("'a/b' cannot name an experiment");
  expect([...(await expRefs(sb)).keys()]).toEqual([]);

  await sb.git(['checkout', '-q', '--orphan', 'empty']);
  await sb.git(['rm', '-rq', '--cached', '.']);
  const noCommit = await sb.cairn(['exp', 'run']);
  expect(noCommit.code).toBe(1);
  expect(noCommit.stderr).toContain("has no commit yet to be the experiments' baseline");
});
