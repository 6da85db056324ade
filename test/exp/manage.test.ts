/** `cairn exp show`, `list`, `diff`, `apply`, `branch` and `remove` on real experiment refs. */
import fs from 'node:fs';
import { expect, test } from 'vitest';
import { expRefs, pipelineRepo } from './setup.js';

interface Row {
  name: string;
  kind: string;
  rev: string;
  params: Record<string, Record<string, unknown>>;
  metrics: Record<string, Record<string, unknown>>;
}

test('show, list, diff, apply, branch and remove work on the experiments of a baseline', async () => {
  const { sb, baseline } = await pipelineRepo();
  await using _ = sb;
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.5', '-n', 'a']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.2', '-n', 'b']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.9', '-n', 'c']);

  const json = JSON.parse((await sb.cairnOk(['exp', 'show', '--json'])).stdout) as {
    workspace: Row;
    groups: { baseline: Row; experiments: Row[] }[];
  };
  expect(json.workspace.params['params.yaml']).toEqual({
    'train.lr': 0.5,
    'train.epochs': 3,
    'train.sleep': 0,
  });
  expect(json.groups).toHaveLength(1);
  expect(json.groups[0]?.baseline).toMatchObject({ name: 'main', kind: 'baseline', rev: baseline });
  const exps = json.groups[0]?.experiments ?? [];
  expect(exps.map((e) => [e.name, e.metrics['metrics.json']?.loss])).toEqual([
    ['a', 0.5],
    ['b', 0.8],
    ['c', 0.1],
  ]);

  // Sorted by a metric, grouped under the baseline; unchanged columns dropped.
  const table = (
    await sb.cairnOk(['exp', 'show', '--sort-by', 'loss', '--sort-order', 'desc', '--only-changed'])
  ).stdout;
  const lines = table.split('\n');
  expect(lines[0]).toMatch(/^Experiment\s+Created\s+loss\s+train\.lr$/);
  expect(lines.slice(2, 7).map((l) => l.split(/\s{2,}/)[0])).toEqual([
    'workspace',
    'main',
    `├── b [${exps[1]?.rev.slice(0, 7) ?? ''}]`,
    `├── a [${exps[0]?.rev.slice(0, 7) ?? ''}]`,
    `└── c [${exps[2]?.rev.slice(0, 7) ?? ''}]`,
  ]);
  const md = (await sb.cairnOk(['exp', 'show', '--md', '--only-changed'])).stdout.split('\n');
  expect(md[0]).toBe('| Experiment | Created | loss | train.lr |');
  expect(md[1]).toBe('|---|---|---|---|');
  const csv = (await sb.cairnOk(['exp', 'show', '--csv'])).stdout.split('\n');
  expect(csv[0]).toBe(
    'Experiment,rev,typ,Created,parent,loss,epochs,train.lr,train.epochs,train.sleep',
  );
  expect(csv.find((l) => l.startsWith('b,'))).toContain(`,experiment,`);
  const bad = await sb.cairn(['exp', 'show', '--sort-by', 'accuracy']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('--sort-by accuracy: no such metric or param');
  expect(bad.stderr).toContain('metrics.json:loss');

  expect((await sb.cairnOk(['exp', 'list'])).stdout).toBe(
    `${baseline.slice(0, 7)}:\n\ta\n\tb\n\tc\n`,
  );

  const diff = JSON.parse((await sb.cairnOk(['exp', 'diff', 'a', 'b', '--json'])).stdout) as {
    params: Record<string, Record<string, { old: number; new: number; diff: number }>>;
    metrics: Record<string, Record<string, { old: number; new: number; diff: number }>>;
  };
  expect(diff.params['params.yaml']).toEqual({ 'train.lr': { old: 0.5, new: 0.2, diff: -0.3 } });
  expect(diff.metrics['metrics.json']).toEqual({ loss: { old: 0.5, new: 0.8, diff: 0.3 } });
  expect((await sb.cairnOk(['exp', 'diff', 'b', '--md'])).stdout).toContain(
    '| params.yaml | train.lr | ',
  );

  // apply: git-tracked files from the commit, the cached output from the cache.
  await sb.cairnOk(['exp', 'apply', 'b']);
  expect(fs.readFileSync(sb.path('params.yaml'), 'utf8')).toContain('lr: 0.2 # learning rate');
  expect(JSON.parse(fs.readFileSync(sb.path('metrics.json'), 'utf8'))).toEqual({
    loss: 0.8,
    epochs: 3,
  });
  expect(fs.readFileSync(sb.path('model.bin'), 'utf8')).toBe('model-0.2\n');
  // A second apply would overwrite those uncommitted changes: refused without --force.
  const refused = await sb.cairn(['exp', 'apply', 'c']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("applying 'c' would overwrite uncommitted changes");
  await sb.cairnOk(['exp', 'apply', 'c', '--force']);
  expect(fs.readFileSync(sb.path('model.bin'), 'utf8')).toBe('model-0.9\n');

  await sb.cairnOk(['exp', 'branch', 'a', 'try-a']);
  expect((await sb.git(['rev-parse', 'try-a'])).trim()).toBe(exps[0]?.rev);

  await sb.cairnOk(['exp', 'remove', 'a', 'c']);
  expect([...(await expRefs(sb)).keys()].map((r) => r.split('/').pop())).toEqual(['b']);
  const missing = await sb.cairn(['exp', 'apply', 'a']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no experiment named 'a'");
  const noRev = await sb.cairn(['exp', 'show', '--rev', 'nope']);
  expect(noRev.code).toBe(1);
  expect(noRev.stderr).toContain("revision 'nope' does not exist");
});

test('exp show -A groups experiments under each baseline; a cached metrics file is read from the cache', async () => {
  const { sb, baseline } = await pipelineRepo();
  await using _ = sb;
  // Metrics kept in the cache (gitignored), as DVC does for metrics with cache: true.
  const dvcYaml = fs
    .readFileSync(sb.path('dvc.yaml'), 'utf8')
    .replace('      - metrics.json:\n          cache: false\n', '      - metrics.json\n');
  fs.writeFileSync(sb.path('dvc.yaml'), dvcYaml);
  await sb.git(['commit', '-qam', 'cached metrics']);
  const second = (await sb.git(['rev-parse', 'HEAD'])).trim();
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.4', '-n', 'cached']);
  await sb.git(['checkout', '-q', baseline]);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'old']);

  const json = JSON.parse((await sb.cairnOk(['exp', 'show', '-A', '--json'])).stdout) as {
    groups: { baseline: Row; experiments: Row[] }[];
  };
  const byBaseline = new Map(json.groups.map((g) => [g.baseline.rev, g.experiments]));
  expect(byBaseline.get(baseline)?.map((e) => e.name)).toEqual(['old']);
  const cached = byBaseline.get(second)?.[0];
  expect(cached?.name).toBe('cached');
  const files = await sb.git(['ls-tree', '-r', '--name-only', cached?.rev ?? '']);
  expect(files.split('\n')).not.toContain('metrics.json');
  expect(cached?.metrics['metrics.json']).toEqual({ loss: 0.6, epochs: 3 });
  // Only HEAD's experiments without -A.
  const head = JSON.parse((await sb.cairnOk(['exp', 'show', '--json'])).stdout) as {
    groups: unknown[];
  };
  expect(head.groups).toHaveLength(1);
});
