/** `cairn exp run --queue` and `exp queue`: a queue in git refs, run N at a time, with status, logs and kill. */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import type { Sandbox } from '../e2e/helpers.js';
import { expRefs, pipelineRepo, tempWorktrees } from './setup.js';

interface Entry {
  id: string;
  name: string;
  state: string;
}

/** Pids of processes whose working folder is inside `dir` (Linux /proc). */
function processesUnder(dir: string): number[] {
  const root = fs.realpathSync(dir);
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return fs.readlinkSync(`/proc/${n}/cwd`).startsWith(root);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function status(sb: Sandbox): Promise<Entry[]> {
  return JSON.parse((await sb.cairnOk(['exp', 'queue', 'status', '--json'])).stdout) as Entry[];
}

test('queued experiments wait in git refs and run two at a time with the run-cache shared', async () => {
  const { sb } = await pipelineRepo();
  await using _ = sb;
  const queued = await sb.cairnOk([
    'exp',
    'run',
    '--queue',
    '-S',
    'train.lr=0.1,0.2,0.3',
    '-S',
    'train.sleep=1',
  ]);
  expect(queued.stdout.match(/^Queued experiment/gm)).toHaveLength(3);
  expect([...(await expRefs(sb)).keys()]).toEqual([]);
  const before = await status(sb);
  expect(before.map((e) => e.state)).toEqual(['queued', 'queued', 'queued']);
  const queueRefs = await sb.git(['for-each-ref', '--format=%(refname)', 'refs/cairn/exp-queue']);
  expect(queueRefs.trim().split('\n')).toHaveLength(3);

  const run = await sb.cairnOk(['exp', 'queue', 'start', '-j', '2']);
  expect(run.stdout).toContain('Queue done: 3 experiments ran, 0 failed.');
  expect(await status(sb)).toEqual([]);
  const refs = await expRefs(sb);
  const names = [...refs.keys()].map((r) => r.split('/').pop()).sort();
  expect(names).toEqual(before.map((e) => e.name).sort());
  expect(tempWorktrees(sb)).toEqual([]);
  expect((await sb.git(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
  // Worktrees are reused between experiments: each commit still holds its own params and results.
  const lrs: string[] = [];
  for (const commit of refs.values()) {
    const params = await sb.git(['show', `${commit}:params.yaml`]);
    const lr = /lr: ([\d.]+)/.exec(params)?.[1] ?? '';
    lrs.push(lr);
    const metrics = JSON.parse(await sb.git(['show', `${commit}:metrics.json`])) as {
      loss: number;
    };
    expect(metrics.loss).toBeCloseTo(1 - Number(lr), 6);
    expect(await sb.git(['ls-tree', '--name-only', commit])).not.toContain('model.bin');
  }
  expect(lrs.sort()).toEqual(['0.1', '0.2', '0.3']);

  const log = await sb.cairnOk(['exp', 'queue', 'logs', before[0]?.id ?? '']);
  expect(log.stdout).toContain("Running stage 'train':");
  expect(log.stdout).toContain(`Ran experiment '${before[0]?.name ?? ''}'`);

  // The same params again hit the run-cache the queued runs saved.
  await sb.cairnOk([
    'exp',
    'run',
    '--queue',
    '-S',
    'train.lr=0.1',
    '-S',
    'train.sleep=1',
    '-n',
    'again',
  ]);
  const [again] = await status(sb);
  await sb.cairnOk(['exp', 'queue', 'start']);
  expect((await sb.cairnOk(['exp', 'queue', 'logs', again?.id ?? ''])).stdout).toContain(
    "Stage 'train' is cached",
  );
});

test('exp queue kill stops one running experiment: it is marked failed and leaves no ref, while the other one finishes', async () => {
  const { sb } = await pipelineRepo();
  await using _ = sb;
  await sb.cairnOk(['exp', 'run', '--queue', '-S', 'train.sleep=60', '-n', 'slow']);
  await sb.cairnOk(['exp', 'run', '--queue', '-S', 'train.sleep=3', '-n', 'quick']);
  const start = sb.spawnCairn(['exp', 'queue', 'start', '-j', '2']);
  const deadline = Date.now() + 60_000;
  let running: Entry | undefined;
  while (running === undefined && Date.now() < deadline) {
    running = (await status(sb)).find((e) => e.name === 'slow' && e.state === 'running');
    if (running === undefined) await sleep(200);
  }
  expect(running?.name).toBe('slow');
  // Wait for the stage to start before stopping it.
  while (
    !(await sb.cairn(['exp', 'queue', 'logs', 'slow'])).stdout.includes('> sleep 60') &&
    Date.now() < deadline
  )
    await sleep(200);
  await sb.cairnOk(['exp', 'queue', 'kill', 'slow']);
  const ended = await start.exited;
  expect(ended.code).toBe(1);
  expect(ended.stdout).toContain('1 experiments ran, 1 failed');
  expect((await status(sb)).map((e) => [e.name, e.state])).toEqual([['slow', 'failed']]);
  expect([...(await expRefs(sb)).keys()].map((r) => r.split('/').pop())).toEqual(['quick']);
  expect((await sb.cairnOk(['exp', 'queue', 'logs', 'slow'])).stdout).toContain(
    "Experiment 'slow' (train.sleep=60) failed: no ref written.",
  );
  expect(tempWorktrees(sb)).toEqual([]);
  // The stage's processes are gone, not only its shell.
  expect(processesUnder(sb.path('.'))).toEqual([]);
  await sb.cairnOk(['exp', 'remove', 'slow']);
  expect(await status(sb)).toEqual([]);
});

test('kill -9 of the queue runner leaves no ref and an untouched workspace; the next start fails its entries and removes its worktrees', async () => {
  const { sb } = await pipelineRepo();
  await using _ = sb;
  const paramsBefore = fs.readFileSync(sb.path('params.yaml'), 'utf8');
  const statusBefore = await sb.git(['status', '--porcelain']);
  await sb.cairnOk(['exp', 'run', '--queue', '-S', 'train.sleep=60', '-n', 'slow']);
  const start = sb.spawnCairn(['exp', 'queue', 'start']);
  const deadline = Date.now() + 60_000;
  while (
    !(await sb.cairn(['exp', 'queue', 'logs', 'slow'])).stdout.includes('> sleep 60') &&
    Date.now() < deadline
  )
    await sleep(200);
  expect(tempWorktrees(sb)).toHaveLength(1);
  start.kill('SIGKILL');
  expect((await start.exited).signal).toBe('SIGKILL');

  expect((await status(sb)).map((e) => [e.name, e.state])).toEqual([['slow', 'killed']]);
  expect([...(await expRefs(sb)).keys()]).toEqual([]);
  expect(fs.readFileSync(sb.path('params.yaml'), 'utf8')).toBe(paramsBefore);
  expect(await sb.git(['status', '--porcelain'])).toBe(statusBefore);

  const again = await sb.cairnOk(['exp', 'queue', 'start']);
  expect(again.stdout).toContain('Queue done: 0 experiments ran, 0 failed.');
  expect((await status(sb)).map((e) => [e.name, e.state])).toEqual([['slow', 'failed']]);
  expect(tempWorktrees(sb)).toEqual([]);
  expect((await sb.git(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
});

test('entries of other baselines and other workspace snapshots each run on their own, though worktrees are reused', async () => {
  const { sb, baseline: first } = await pipelineRepo();
  await using _ = sb;
  await sb.cairnOk(['exp', 'run', '--queue', '-S', 'train.lr=0.1', '-n', 'a']);
  // A new baseline with the same files, then an uncommitted file in the workspace.
  await sb.git(['commit', '-q', '--allow-empty', '-m', 'same files']);
  const second = (await sb.git(['rev-parse', 'HEAD'])).trim();
  await sb.cairnOk(['exp', 'run', '--queue', '-S', 'train.lr=0.2', '-n', 'b']);
  fs.writeFileSync(sb.path('notes.txt'), 'draft\n');
  await sb.cairnOk(['exp', 'run', '--queue', '-S', 'train.lr=0.3', '-n', 'c']);

  const run = await sb.cairnOk(['exp', 'queue', 'start']);
  expect(run.stdout).toContain('Queue done: 3 experiments ran, 0 failed.');
  const refs = await expRefs(sb);
  const byName = new Map([...refs].map(([ref, commit]) => [ref.split('/').pop() ?? '', commit]));
  const expected: [string, string, string, boolean][] = [
    ['a', first, '0.1', false],
    ['b', second, '0.2', false],
    ['c', second, '0.3', true],
  ];
  for (const [name, parent, lr, notes] of expected) {
    const commit = byName.get(name) ?? '';
    expect((await sb.git(['rev-parse', `${commit}^`])).trim()).toBe(parent);
    expect(await sb.git(['show', `${commit}:params.yaml`])).toContain(`lr: ${lr}`);
    const metrics = JSON.parse(await sb.git(['show', `${commit}:metrics.json`])) as {
      loss: number;
    };
    expect(metrics.loss).toBeCloseTo(1 - Number(lr), 6);
    const files = (await sb.git(['ls-tree', '--name-only', commit])).split('\n');
    expect(files.includes('notes.txt')).toBe(notes);
  }
  expect(tempWorktrees(sb)).toEqual([]);
  expect((await sb.git(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
});
