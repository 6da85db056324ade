/**
 * The sklearn example as a pull request would see it: the pipeline runs on `main`, a branch
 * changes `train.C` and runs again, and metrics diff, params diff, plots diff (its ROC and
 * confusion plots from dvc.yaml) and `cairn report` compare the two with Debian's python3.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT, createSandbox } from '../e2e/helpers.js';
import { decodePng, inkedPixels, marks, parseSvg, texts } from './images.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'sklearn');
const PYTHON = '/usr/bin/python3';
/** Stages run `python3 …`: /usr/bin first picks Debian's, which has scikit-learn. */
const RUN_ENV = { PATH: `/usr/bin:${process.env.PATH ?? ''}` };

function missingPython(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, onnx, joblib'], { encoding: 'utf8' });
  if (r.error !== undefined) return `${PYTHON} not found`;
  if (r.status !== 0) return `${PYTHON} lacks scikit-learn, pandas or onnx: ${r.stderr.trim()}`;
  return undefined;
}

const missing = missingPython();
const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
const title =
  'the sklearn example: a changed train.C compared with main in metrics, params, plots and the report';

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
    await sb.git(['commit', '-qm', 'baseline']);
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
