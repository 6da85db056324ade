/**
 * The sklearn example as a pull request would see it: the pipeline runs on `main`, a branch
 * changes `train.C` and runs again, and metrics diff, params diff, plots diff (its ROC and
 * confusion plots from dvc.yaml) and `cairn report` compare the two with Debian's python3.
 */
import fs from 'node:fs';
import { expect } from 'vitest';
import { decodePng, inkedPixels, marks, parseSvg, texts } from './images.js';
import { RUN_ENV, reproducedExample, sklearnTest } from '../examples/sklearn-project.js';

sklearnTest(
  'the sklearn example: a changed train.C compared with main in metrics, params, plots and the report',
  async () => {
    await using sb = await reproducedExample('baseline');
    const run = { env: RUN_ENV };
    const base = JSON.parse(fs.readFileSync(sb.path('eval/metrics.json'), 'utf8')) as Record<
      string,
      number
    >;

    await sb.git(['checkout', '-qb', 'weak-regularisation']);
    const params = fs.readFileSync(sb.path('params.yaml'), 'utf8');
    fs.writeFileSync(sb.path('params.yaml'), params.replace('C: 1.0', 'C: 0.001'));
    await sb.cairnOk(['repro'], run);
    const now = JSON.parse(fs.readFileSync(sb.path('eval/metrics.json'), 'utf8')) as Record<
      string,
      number
    >;

    const pdiff = JSON.parse(
      (await sb.cairnOk(['params', 'diff', 'main', '--json'])).stdout,
    ) as unknown;
    expect(pdiff).toEqual({
      'params.yaml': { 'train.C': { old: 1.0, new: 0.001, diff: 0.001 - 1.0 } },
    });
    const mdiff = JSON.parse(
      (await sb.cairnOk(['metrics', 'diff', 'main', '--all', '--json'])).stdout,
    ) as Record<string, Record<string, { old: number; new: number; diff: number }>>;
    for (const key of ['accuracy', 'roc_auc', 'f1'])
      expect(mdiff['eval/metrics.json']?.[key]).toEqual({
        old: base[key],
        new: now[key],
        diff: (now[key] ?? NaN) - (base[key] ?? NaN),
      });
    expect(Object.keys(mdiff).sort()).toEqual(['eval/metrics.json', 'eval/onnx_check.json']);

    await sb.cairnOk(['plots', 'diff', 'main', '--svg', '--png', '-o', 'plots']);
    const rocSvg = parseSvg(fs.readFileSync(sb.path('plots/ROC.svg'), 'utf8'));
    expect(marks(rocSvg, 'line')).toHaveLength(2);
    expect(texts(rocSvg)).toEqual(expect.arrayContaining(['main', 'workspace', 'fpr', 'tpr']));
    const conf = parseSvg(fs.readFileSync(sb.path('plots/Confusion_matrix.svg'), 'utf8'));
    // Two panels (main, workspace) of 2×2 cells whose counts add up to the 750 test rows each.
    expect(marks(conf, 'rect')).toHaveLength(8);
    const counts = marks(conf, 'text').flatMap(texts).map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1500);
    for (const f of ['plots/ROC.png', 'plots/Confusion_matrix.png'])
      expect(inkedPixels(decodePng(fs.readFileSync(sb.path(f))))).toBeGreaterThan(2000);

    // A ModelKit packed from this state is named by the report (pack records dvc.lock's digest).
    const packed = JSON.parse(
      (await sb.cairnOk(['pack', '.', '-t', 'churn:pr-1', '--json'])).stdout,
    ) as { digest: string };
    await sb.cairnOk(['report', '--base', 'main']);
    const md = fs.readFileSync(sb.path('report.md'), 'utf8');
    expect(md).toMatch(
      new RegExp(
        `## ModelKit\\n\\n\`${packed.digest}\` \\(\`[^\`]*churn:pr-1\`\\), packed from this dvc\\.lock\\.`,
      ),
    );
    expect(md).toContain('| params.yaml | train.C | 1    | 0.001     |');
    expect(md).toMatch(/\| eval\/metrics\.json +\| accuracy /);
    expect(md).toContain('![ROC](report_plots/ROC.png)');
    expect(md).toContain('![Confusion matrix](report_plots/Confusion_matrix.png)');
    expect(md).toContain('Data and pipelines are up to date.');
  },
  600_000,
);
