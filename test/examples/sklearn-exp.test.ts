/**
 * examples/sklearn as an experiment: after the baseline is reproduced and committed, `cairn exp
 * run -S train.C=…` trains again in a temp worktree (the unchanged `prepare` stage comes from the
 * run-cache), commits the result on the baseline, and `exp show` reads its metrics from git.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT, createSandbox } from '../e2e/helpers.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'sklearn');
const PYTHON = '/usr/bin/python3';
/** Stages run `python3 …`; /usr/bin first picks Debian's, which has scikit-learn. */
const RUN_ENV = { PATH: `/usr/bin:${process.env.PATH ?? ''}` };

const probe = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, onnx, joblib'], {
  encoding: 'utf8',
});
const missing =
  probe.error !== undefined || probe.status !== 0
    ? `${PYTHON} lacks scikit-learn, pandas or onnx (scripts/test-deps.sh installs them)`
    : undefined;
const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
const title =
  'an sklearn experiment with -S train.C runs in a temp worktree and is committed on its baseline';

interface Row {
  name: string;
  rev: string;
  params: Record<string, Record<string, unknown>>;
  metrics: Record<string, Record<string, number>>;
}

(missing === undefined || required ? test : test.skip)(
  missing === undefined ? title : `${title} (skipped: ${missing})`,
  async () => {
    if (missing !== undefined) throw new Error(`CAIRN_REQUIRE_TOOLS=1 but ${missing}`);
    await using sb = await createSandbox({ init: false });
    const generated = ['model', 'eval', 'data/prepared', 'dvc.lock', 'data/churn.csv.dvc'].map(
      (p) => path.join(EXAMPLE, p),
    );
    await fsp.cp(EXAMPLE, sb.root, {
      recursive: true,
      filter: (src) => !generated.includes(src) && path.basename(src) !== '__pycache__',
    });
    const run = { env: RUN_ENV };
    await sb.cairnOk(['init']);
    await sb.cairnOk(['add', 'data/churn.csv']);
    await sb.cairnOk(['repro'], run);
    await sb.git(['add', '-A']);
    await sb.git(['commit', '-qm', 'baseline: C=1.0']);
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
