/**
 * examples/sklearn end to end, as its README tells a user to run it: `cairn init`, `cairn add`,
 * `cairn repro` with Debian's python3 (scikit-learn, pandas, onnx), then the exported model run
 * in onnxruntime-node against scikit-learn's own predictions, and `cairn pack`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect, test } from 'vitest';
import { PROJECT_ROOT, createSandbox, type Sandbox } from '../e2e/helpers.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'sklearn');
/** Debian's interpreter: the `python3` first on a developer's PATH may lack scikit-learn. */
const PYTHON = '/usr/bin/python3';
/** Stages run `python3 …`; /usr/bin first picks Debian's. An empty PYTHONDONTWRITEBYTECODE
 * lets Python write `__pycache__` as on a user's machine, so the pack check below means something. */
const RUN_ENV = { PATH: `/usr/bin:${process.env.PATH ?? ''}`, PYTHONDONTWRITEBYTECODE: '' };
const NUMERIC = ['tenure_months', 'monthly_charges', 'support_calls', 'data_usage_gb'];
const TOLERANCE = 1e-5;

/** Why the example cannot run here, or undefined when it can. */
function missingPython(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, onnx, joblib'], {
    encoding: 'utf8',
  });
  if (r.error !== undefined) return `${PYTHON} not found`;
  if (r.status !== 0)
    return `${PYTHON} lacks scikit-learn, pandas or onnx (scripts/test-deps.sh installs them): ${r.stderr.trim()}`;
  return undefined;
}

const missing = missingPython();
const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
const title =
  'the sklearn example trains, exports an ONNX model that answers as scikit-learn does, reproduces byte for byte and packs';

/** The example's files without anything a run in the checkout may have left behind. */
async function copyExample(sb: Sandbox): Promise<void> {
  const generated = ['model', 'eval', 'data/prepared', 'dvc.lock', 'data/churn.csv.dvc'].map((p) =>
    path.join(EXAMPLE, p),
  );
  await fsp.cp(EXAMPLE, sb.root, {
    recursive: true,
    filter: (src) => !generated.includes(src) && path.basename(src) !== '__pycache__',
  });
}

interface Row {
  contract: string;
  numeric: number[];
  label: number;
  probabilities: [number, number];
}

/** eval/predictions.csv: the test split's inputs and scikit-learn's answers (no quoted fields). */
function readPredictions(file: string): Row[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const columns = (header ?? '').split(',');
  const at = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`${file}: no column ${name} in ${header ?? ''}`);
    return i;
  };
  return lines.map((line) => {
    const cells = line.split(',');
    const num = (name: string): number => Number(cells[at(name)]);
    return {
      contract: cells[at('contract')] ?? '',
      numeric: NUMERIC.map(num),
      label: num('label'),
      probabilities: [num('probability_0'), num('probability_1')],
    };
  });
}

async function runOnnx(modelFile: string, rows: Row[]) {
  const session = await ort.InferenceSession.create(modelFile);
  expect(session.inputNames).toEqual(['numeric', 'category']);
  expect(session.outputNames).toEqual(['label', 'probabilities']);
  const out = await session.run({
    numeric: new ort.Tensor('float32', Float32Array.from(rows.flatMap((r) => r.numeric)), [
      rows.length,
      NUMERIC.length,
    ]),
    category: new ort.Tensor(
      'string',
      rows.map((r) => r.contract),
      [rows.length, 1],
    ),
  });
  await session.release();
  const label = out.label;
  const probabilities = out.probabilities;
  if (label === undefined || probabilities === undefined) throw new Error('missing ONNX outputs');
  expect(label.type).toBe('int64');
  expect(label.dims).toEqual([rows.length]);
  expect(probabilities.type).toBe('float32');
  expect(probabilities.dims).toEqual([rows.length, 2]);
  return { label: label.data as BigInt64Array, probabilities: probabilities.data as Float32Array };
}

(missing === undefined || required ? test : test.skip)(
  missing === undefined ? title : `${title} (skipped: ${missing})`,
  async () => {
    if (missing !== undefined) throw new Error(`CAIRN_REQUIRE_TOOLS=1 but ${missing}`);
    await using sb = await createSandbox({ init: false });
    await copyExample(sb);
    const run = { env: RUN_ENV };

    await sb.cairnOk(['init']);
    await sb.cairnOk(['add', 'data/churn.csv']);
    expect(fs.readFileSync(sb.path('data/churn.csv.dvc'), 'utf8')).toContain('path: churn.csv');
    const first = await sb.cairnOk(['repro'], run);
    expect(first.stdout).toContain('4 ran');
    expect(first.stdout).toContain('model.onnx matches scikit-learn on 750 rows');

    // Metrics well above chance (the data is half churners) and plot files in DVC's shapes.
    const metrics = JSON.parse(fs.readFileSync(sb.path('eval/metrics.json'), 'utf8')) as Record<
      string,
      number
    >;
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(metrics.roc_auc).toBeGreaterThanOrEqual(0.85);
    expect(metrics.f1).toBeGreaterThanOrEqual(0.7);
    expect(metrics.test_rows).toBe(750);
    const roc = (
      JSON.parse(fs.readFileSync(sb.path('eval/roc.json'), 'utf8')) as {
        roc: { fpr: number; tpr: number; threshold: number }[];
      }
    ).roc;
    expect(roc[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    roc.slice(1).forEach((p, i) => {
      expect(p.fpr).toBeGreaterThanOrEqual(roc[i]?.fpr ?? NaN);
      expect(p.tpr).toBeGreaterThanOrEqual(roc[i]?.tpr ?? NaN);
    });
    const confusion = fs.readFileSync(sb.path('eval/confusion.csv'), 'utf8').trimEnd().split('\n');
    expect(confusion[0]).toBe('actual,predicted');
    expect(confusion).toHaveLength(751);
    const check = JSON.parse(fs.readFileSync(sb.path('eval/onnx_check.json'), 'utf8')) as {
      max_abs_diff: number;
      label_mismatches: number;
    };
    expect(check.max_abs_diff).toBeLessThanOrEqual(TOLERANCE);
    expect(check.label_mismatches).toBe(0);

    // ONNX's own strict checker accepts the file.
    const checker = spawnSync(
      PYTHON,
      [
        '-c',
        'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)',
        sb.path('model/model.onnx'),
      ],
      { encoding: 'utf8' },
    );
    expect(checker.stderr).toBe('');
    expect(checker.status).toBe(0);

    // onnxruntime-node answers as scikit-learn did: probabilities within 1e-5 and the same labels
    // (except where float32 against float64 may round a probability of 0.5 either way).
    const rows = readPredictions(sb.path('eval/predictions.csv'));
    expect(rows).toHaveLength(750);
    const onnx = await runOnnx(sb.path('model/model.onnx'), rows);
    let worst = 0;
    rows.forEach((row, i) => {
      row.probabilities.forEach((want, k) => {
        worst = Math.max(worst, Math.abs((onnx.probabilities[2 * i + k] ?? NaN) - want));
      });
      if (Math.abs(row.probabilities[1] - 0.5) > TOLERANCE) {
        expect(Number(onnx.label[i]), `row ${String(i)}`).toBe(row.label);
      }
    });
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
    // Both classes occur, so the comparison covered both branches of the model.
    expect(new Set(rows.map((r) => r.label))).toEqual(new Set([0, 1]));
    expect(new Set(rows.map((r) => r.contract)).size).toBe(3);

    const again = await sb.cairnOk(['repro'], run);
    expect(again.stdout).toContain('0 ran');

    // Deterministic: forced re-runs write the same bytes as the first run.
    const bytes = () => ({
      onnx: fs.readFileSync(sb.path('model/model.onnx')).toString('base64'),
      metrics: fs.readFileSync(sb.path('eval/metrics.json'), 'utf8'),
    });
    const firstBytes = bytes();
    await sb.cairnOk(['repro', '--force'], run);
    expect(bytes()).toEqual(firstBytes);
    await sb.cairnOk(['repro', '--force'], run);
    expect(bytes()).toEqual(firstBytes);

    // The generator rewrites the shipped CSV byte for byte.
    const regenerated = path.join(sb.dir, 'churn.csv');
    await expectOk(sb, PYTHON, ['src/make_data.py', regenerated]);
    expect(fs.readFileSync(regenerated).equals(fs.readFileSync(sb.path('data/churn.csv')))).toBe(
      true,
    );

    // The verify stage catches a model that drifted from scikit-learn: nudge the bias and rerun it.
    const tampered = path.join(sb.dir, 'tampered.onnx');
    await expectOk(sb, PYTHON, [
      '-c',
      [
        'import onnx, sys',
        'from onnx import numpy_helper',
        'm = onnx.load(sys.argv[1])',
        'b = next(t for t in m.graph.initializer if t.name == "bias")',
        'a = numpy_helper.to_array(b).copy()',
        'a[1] += 0.01', // the churn logit only: adding to both would cancel in Softmax
        'b.CopyFrom(numpy_helper.from_array(a, "bias"))',
        'onnx.save(m, sys.argv[2])',
      ].join('\n'),
      sb.path('model/model.onnx'),
      tampered,
    ]);
    const verify = await sb.exec(
      PYTHON,
      ['src/verify.py', tampered, 'eval/predictions.csv', path.join(sb.dir, 'check.json')],
      run,
    );
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('disagrees with scikit-learn');

    // The ModelKit holds the model, code, data, params and docs, and no Python bytecode.
    expect(fs.existsSync(sb.path('src/__pycache__'))).toBe(true);
    await sb.cairnOk(['pack', '.', '-t', 'sklearn-example:v1']);
    expect((await sb.cairnOk(['list'])).stdout).toMatch(/sklearn-example\s+v1/);
    const inspected = JSON.parse((await sb.cairnOk(['inspect', 'sklearn-example:v1'])).stdout) as {
      manifest: { layers: { mediaType: string; annotations: Record<string, string> }[] };
    };
    expect(
      inspected.manifest.layers.map((l) => [
        l.mediaType.replace('application/vnd.kitops.modelkit.', ''),
        l.annotations['org.cncf.model.filepath'],
      ]),
    ).toEqual([
      ['model.v1.tar', 'model/model.onnx'],
      ['modelpart.v1.tar', 'params.yaml'],
      ['modelpart.v1.tar', 'eval/metrics.json'],
      ['code.v1.tar', 'src'],
      ['code.v1.tar', 'dvc.yaml'],
      ['code.v1.tar', 'dvc.lock'],
      ['dataset.v1.tar', 'data/churn.csv'],
      ['docs.v1.tar', 'README.md'],
    ]);
    const out = path.join(sb.dir, 'unpacked');
    await sb.cairnOk(['unpack', 'sklearn-example:v1', '-d', out]);
    expect(fs.readFileSync(path.join(out, 'model/model.onnx')).toString('base64')).toBe(
      firstBytes.onnx,
    );
    expect(fs.existsSync(path.join(out, 'src', 'train.py'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'src', '__pycache__'))).toBe(false);
  },
  // about 35 s alone: three full repros of four Python stages; slack for a busy machine
  180_000,
);

async function expectOk(sb: Sandbox, command: string, args: string[]): Promise<void> {
  const r = await sb.exec(command, args, { env: RUN_ENV });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${r.stderr}`);
}
