/** `cairn exp push` / `exp pull`: experiment refs through a real bare git remote, under the same names. */
import { expect, test } from 'vitest';
import { expRefs, pipelineRepo } from './setup.js';

test('experiments pushed to a git remote are pulled into a clone under the same refs, and exp show reads them there', async () => {
  const { sb, baseline } = await pipelineRepo();
  await using _ = sb;
  const remote = `${sb.dir}/remote.git`;
  await sb.exec('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  await sb.git(['remote', 'add', 'origin', remote]);
  await sb.git(['push', '-q', 'origin', 'main']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.2', '-n', 'keep']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'other']);

  const pushed = await sb.cairnOk(['exp', 'push', 'origin', 'keep']);
  expect(pushed.stdout).toContain('Pushed 1 experiment');
  const ref = `refs/exps/${baseline.slice(0, 2)}/${baseline.slice(2)}/keep`;
  const onRemote = await sb.exec('git', ['ls-remote', remote, 'refs/exps/*']);
  expect(onRemote.stdout).toBe(`${(await expRefs(sb)).get(ref) ?? ''}\t${ref}\n`);
  await sb.cairnOk(['exp', 'push', 'origin']); // HEAD's: both
  expect(
    (await sb.exec('git', ['ls-remote', remote, 'refs/exps/*'])).stdout.trim().split('\n'),
  ).toHaveLength(2);

  const clone = `${sb.dir}/clone`;
  await sb.exec('git', ['clone', '-q', remote, clone]);
  expect((await sb.exec('git', ['for-each-ref', 'refs/exps'], { cwd: clone })).stdout).toBe('');
  const pulled = await sb.cairnOk(['exp', 'pull', 'origin', 'keep'], { cwd: clone });
  expect(pulled.stdout).toContain('Pulled 1 experiment');
  const show = JSON.parse((await sb.cairnOk(['exp', 'show', '--json'], { cwd: clone })).stdout) as {
    groups: { experiments: { name: string; metrics: Record<string, Record<string, number>> }[] }[];
  };
  expect(show.groups[0]?.experiments.map((e) => [e.name, e.metrics['metrics.json']?.loss])).toEqual(
    [['keep', 0.8]],
  );

  const missing = await sb.cairn(['exp', 'pull', 'origin', 'nope'], { cwd: clone });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no experiment named 'nope' on origin");
});
