/**
 * examples/sklearn as an experiment: after the baseline is reproduced and committed, `cairn exp
 * run -S train.C=…` trains again in a temp worktree (the unchanged `prepare` stage comes from the
 * run-cache), commits the result on the baseline, and `exp show` reads its metrics from git.
 */
import fs from 'node:fs';
import { expect } from 'vitest';
import { RUN_ENV, reproducedExample, sklearnTest } from './sklearn-project.js';

interface Row {
  name: string;
  rev: string;
  params: Record<string, Record<string, unknown>>;
  metrics: Record<string, Record<string, number>>;
}

sklearnTest(
  'an sklearn experiment with -S train.C runs in a temp worktree and is committed on its baseline',
  async () => {
    await using sb = await reproducedExample('baseline: C=1.0');
    const run = { env: RUN_ENV };
    const baseline = (await sb.git(['rev-parse', 'HEAD'])).trim();
    const paramsBefore = fs.readFileSync(sb.path('params.yaml'), 'utf8');
    const modelBefore = fs.readFileSync(sb.path('model/model.onnx'));

    const r = await sb.cairnOk(['exp', 'run', '-S', 'train.C=0.01', '-n', 'strong-reg'], run);
    expect(r.stdout).toContain("Stage 'prepare' is cached");
    expect(r.stdout).toContain("Running stage 'train':");
    expect(r.stdout).toContain("Ran experiment 'strong-reg'");

    // The workspace is as it was.
    expect(fs.readFileSync(sb.path('params.yaml'), 'utf8')).toBe(paramsBefore);
    expect(fs.readFileSync(sb.path('model/model.onnx')).equals(modelBefore)).toBe(true);
    expect(await sb.git(['status', '--porcelain'])).toBe('');

    const ref = `refs/exps/${baseline.slice(0, 2)}/${baseline.slice(2)}/strong-reg`;
    const commit = (await sb.git(['rev-parse', ref])).trim();
    expect((await sb.git(['rev-parse', `${commit}^@`])).trim()).toBe(baseline);
    expect(await sb.git(['show', `${commit}:params.yaml`])).toContain('  C: 0.01\n');
    const changed = (await sb.git(['diff', '--name-only', baseline, commit])).trim().split('\n');
    expect(changed).toEqual(
      expect.arrayContaining(['dvc.lock', 'params.yaml', 'eval/metrics.json']),
    );

    const show = JSON.parse((await sb.cairnOk(['exp', 'show', '--json'])).stdout) as {
      groups: { baseline: Row; experiments: Row[] }[];
    };
    const group = show.groups[0];
    const exp = group?.experiments[0];
    expect(exp?.name).toBe('strong-reg');
    expect(exp?.params['params.yaml']?.['train.C']).toBe(0.01);
    expect(group?.baseline.params['params.yaml']?.['train.C']).toBe(1);
    const base = group?.baseline.metrics['eval/metrics.json'];
    const tried = exp?.metrics['eval/metrics.json'];
    expect(tried?.test_rows).toBe(750);
    expect(tried?.accuracy).toBeGreaterThan(0.5);
    expect(tried?.roc_auc).not.toBe(base?.roc_auc);
  },
  300_000,
);
