/**
 * `cairn metrics show/diff` and `cairn params diff` in real git repositories: files declared in
 * dvc.yaml read at the workspace and at commits (without touching the workspace or index),
 * DVC's JSON shapes, Markdown tables, rounding, cached metrics found through the revision's
 * dvc.lock, and the errors for a malformed file and an unknown revision.
 */
import fs from 'node:fs';
import { expect, test } from 'vitest';
import { createSandbox, type Sandbox } from '../e2e/helpers.js';

const DVC_YAML = `stages:
  train:
    cmd: echo trained
    params:
      - train.lr
    metrics:
      - eval/metrics.json:
          cache: false
metrics:
  - summary.yaml
params:
  - extra.toml
`;

async function twoCommits(sb: Sandbox): Promise<void> {
  fs.mkdirSync(sb.path('eval'));
  fs.writeFileSync(sb.path('dvc.yaml'), DVC_YAML);
  fs.writeFileSync(sb.path('params.yaml'), 'train:\n  lr: 0.1\n  epochs: 10\n');
  fs.writeFileSync(sb.path('extra.toml'), 'seed = 1\n');
  fs.writeFileSync(
    sb.path('eval/metrics.json'),
    JSON.stringify({ acc: 0.81, loss: { train: 0.5, test: 0.6 }, curve: [1, 2], name: 'a' }),
  );
  fs.writeFileSync(sb.path('summary.yaml'), 'auc: 0.7\n');
  await sb.git(['add', '-A']);
  await sb.git(['commit', '-qm', 'first']);
  await sb.git(['tag', 'v1']);
  fs.writeFileSync(
    sb.path('eval/metrics.json'),
    JSON.stringify({ acc: 0.8612345678, loss: { train: 0.4, test: 0.6 }, name: 'b' }),
  );
  fs.writeFileSync(sb.path('params.yaml'), 'train:\n  lr: 0.2\n  epochs: 10\n');
  await sb.git(['commit', '-qam', 'second']);
}

test('metrics show prints DVC`s nested JSON, drops lists, and tables round to --precision', async () => {
  await using sb = await createSandbox();
  await twoCommits(sb);
  const json = JSON.parse((await sb.cairnOk(['metrics', 'show', '--json'])).stdout) as unknown;
  expect(json).toEqual({
    workspace: {
      data: {
        'eval/metrics.json': {
          data: { acc: 0.8612345678, loss: { train: 0.4, test: 0.6 }, name: 'b' },
        },
        'summary.yaml': { data: { auc: 0.7 } },
      },
    },
  });
  const text = (await sb.cairnOk(['metrics', 'show'])).stdout.split('\n');
  expect(text[0]?.split(/\s+/)).toEqual(['Path', 'acc', 'auc', 'loss.test', 'loss.train', 'name']);
  expect(text[1]?.split(/\s+/)).toEqual(['eval/metrics.json', '0.86123', '-', '0.6', '0.4', 'b']);
  const md = (await sb.cairnOk(['metrics', 'show', '--md', '--precision', '2'])).stdout;
  expect(md).toContain('| eval/metrics.json | 0.86 | -   | 0.6       | 0.4        | b    |');
  expect(md.split('\n')[1]).toMatch(/^\|-+\|-+\|/);

  // -T adds each tag as a revision read from git, beside the workspace.
  const tags = JSON.parse((await sb.cairnOk(['metrics', 'show', '-T', '--json'])).stdout) as Record<
    string,
    { data: Record<string, { data: Record<string, unknown> }> }
  >;
  expect(Object.keys(tags)).toEqual(['workspace', 'v1']);
  expect(tags.v1?.data['eval/metrics.json']?.data.acc).toBe(0.81);
});

test('metrics diff and params diff compare revisions in DVC`s {path: {key: {old, new, diff}}} shape', async () => {
  await using sb = await createSandbox();
  await twoCommits(sb);
  const before = await sb.git(['status', '--porcelain']);

  const diff = JSON.parse(
    (await sb.cairnOk(['metrics', 'diff', 'HEAD~1', '--json'])).stdout,
  ) as unknown;
  expect(diff).toEqual({
    'eval/metrics.json': {
      acc: { old: 0.81, new: 0.8612345678, diff: 0.8612345678 - 0.81 },
      'loss.train': { old: 0.5, new: 0.4, diff: 0.4 - 0.5 },
      name: { old: 'a', new: 'b' },
    },
  });
  // HEAD and the workspace agree: nothing changed, unless --all.
  expect(JSON.parse((await sb.cairnOk(['metrics', 'diff', '--json'])).stdout)).toEqual({});
  const all = JSON.parse(
    (await sb.cairnOk(['metrics', 'diff', 'v1', 'HEAD', '--all', '--json'])).stdout,
  ) as Record<string, Record<string, unknown>>;
  expect(all['summary.yaml']).toEqual({ auc: { old: 0.7, new: 0.7, diff: 0 } });
  expect(all['eval/metrics.json']?.['loss.test']).toEqual({ old: 0.6, new: 0.6, diff: 0 });

  const md = (await sb.cairnOk(['metrics', 'diff', 'v1', '--md'])).stdout.split('\n');
  expect(md[0]).toBe('| Path              | Metric     | v1   | workspace | Change  |');
  expect(md).toContain('| eval/metrics.json | acc        | 0.81 | 0.86123   | 0.05123 |');
  expect(md).toContain('| eval/metrics.json | name       | a    | b         | -       |');

  const params = JSON.parse(
    (await sb.cairnOk(['params', 'diff', 'v1', '--json'])).stdout,
  ) as unknown;
  expect(params).toEqual({ 'params.yaml': { 'train.lr': { old: 0.1, new: 0.2, diff: 0.1 } } });
  const paramsAll = JSON.parse(
    (await sb.cairnOk(['params', 'diff', 'v1', '--all', '--json'])).stdout,
  ) as Record<string, unknown>;
  expect(Object.keys(paramsAll).sort()).toEqual(['extra.toml', 'params.yaml']);
  const ptext = (await sb.cairnOk(['params', 'diff', 'v1'])).stdout.split('\n');
  expect(ptext[0]?.split(/\s+/)).toEqual(['Path', 'Param', 'v1', 'workspace']);
  expect(ptext[1]?.split(/\s+/)).toEqual(['params.yaml', 'train.lr', '0.1', '0.2']);

  // Revisions were read with git plumbing: the workspace and index are as they were.
  expect(await sb.git(['status', '--porcelain'])).toBe(before);
});

test('a cached metrics file at an older commit is read from the cache by that commit`s dvc.lock', async () => {
  await using sb = await createSandbox();
  fs.writeFileSync(
    sb.path('dvc.yaml'),
    `stages:
  score:
    cmd: >-
      echo '{"score": \${score}}' > score.json
    metrics:
      - score.json
`,
  );
  fs.writeFileSync(sb.path('params.yaml'), 'score: 1\n');
  await sb.cairnOk(['repro']);
  await sb.git(['add', '-A']);
  await sb.git(['commit', '-qm', 'score 1']);
  expect(await sb.git(['ls-files', 'score.json'])).toBe(''); // gitignored: only the cache has it
  fs.writeFileSync(sb.path('params.yaml'), 'score: 2\n');
  await sb.cairnOk(['repro']);
  const diff = JSON.parse((await sb.cairnOk(['metrics', 'diff', '--json'])).stdout) as unknown;
  expect(diff).toEqual({ 'score.json': { score: { old: 1, new: 2, diff: 1 } } });
});

test('a malformed metrics file is reported at file:line:col, an unknown revision by name', async () => {
  await using sb = await createSandbox();
  await twoCommits(sb);
  fs.writeFileSync(sb.path('eval/metrics.json'), '{\n  "acc": 0.9,\n  "loss": \n}\n');
  const bad = await sb.cairn(['metrics', 'show']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^error: eval\/metrics\.json:4:1: invalid JSON/m);
  fs.writeFileSync(sb.path('summary.yaml'), 'auc: [0.7\n');
  await sb.git(['checkout', '--', 'eval/metrics.json']);
  const yaml = await sb.cairn(['metrics', 'diff']);
  expect(yaml.code).toBe(1);
  expect(yaml.stderr).toMatch(/^error: summary\.yaml:\d+:\d+: /m);

  const unknown = await sb.cairn(['metrics', 'diff', 'no-such-branch']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("error: unknown revision 'no-such-branch'");
  const unknownJson = await sb.cairn(['params', 'diff', 'HEAD~9', '--json']);
  expect(unknownJson.code).toBe(1);
  expect(JSON.parse(unknownJson.stdout)).toMatchObject({ error: { code: 'revision-invalid' } });
});

test('before the first commit, metrics diff shows every metric as new instead of failing on HEAD', async () => {
  await using sb = await createSandbox();
  fs.writeFileSync(sb.path('dvc.yaml'), 'metrics:\n  - m.json\n');
  fs.writeFileSync(sb.path('m.json'), '{"a": 1}');
  const diff = JSON.parse((await sb.cairnOk(['metrics', 'diff', '--json'])).stdout) as unknown;
  expect(diff).toEqual({ 'm.json': { a: { old: null, new: 1 } } });
});
