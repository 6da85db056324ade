/**
 * examples/sklearn as a test project: a sandbox holding a fresh copy of it (none of its generated
 * files), its pipeline reproduced with Debian's python3 and committed as the baseline; and a
 * `test` that skips, saying why, where that python3 lacks scikit-learn (fails under
 * CAIRN_REQUIRE_TOOLS=1, as CI runs).
 */
import { spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'vitest';
import { PROJECT_ROOT, createSandbox, type Sandbox } from '../e2e/helpers.js';

export const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'sklearn');
const PYTHON = '/usr/bin/python3';
/** Stages run `python3 …`: /usr/bin first picks Debian's, which has scikit-learn. */
export const RUN_ENV = { PATH: `/usr/bin:${process.env.PATH ?? ''}` };

function missingPython(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, onnx, joblib'], { encoding: 'utf8' });
  if (r.error !== undefined) return `${PYTHON} not found`;
  if (r.status !== 0)
    return `${PYTHON} lacks scikit-learn, pandas or onnx (scripts/test-deps.sh installs them): ${r.stderr.trim()}`;
  return undefined;
}

/** A test over the example, skipped (with the reason in its title) where python3 cannot run it. */
export function sklearnTest(title: string, body: () => Promise<void>, timeout: number): void {
  const missing = missingPython();
  const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
  (missing === undefined || required ? test : test.skip)(
    missing === undefined ? title : `${title} (skipped: ${missing})`,
    async () => {
      if (missing !== undefined) throw new Error(`CAIRN_REQUIRE_TOOLS=1 but ${missing}`);
      await body();
    },
    timeout,
  );
}

/** A sandbox with the example copied in, `cairn init`, `add`, `repro` run and all committed. */
export async function reproducedExample(message: string): Promise<Sandbox> {
  const sb = await createSandbox({ init: false });
  try {
    const generated = ['model', 'eval', 'data/prepared', 'dvc.lock', 'data/churn.csv.dvc'].map(
      (p) => path.join(EXAMPLE, p),
    );
    await fsp.cp(EXAMPLE, sb.root, {
      recursive: true,
      filter: (src) => !generated.includes(src) && path.basename(src) !== '__pycache__',
    });
    await sb.cairnOk(['init']);
    await sb.cairnOk(['add', 'data/churn.csv']);
    await sb.cairnOk(['repro'], { env: RUN_ENV });
    await sb.git(['add', '-A']);
    await sb.git(['commit', '-qm', message]);
    return sb;
  } catch (error) {
    await sb[Symbol.asyncDispose]();
    throw error;
  }
}
