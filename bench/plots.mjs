// plots: `cairn plots show --svg --png` of a 10,000-point linear plot declared in dvc.yaml
// (target <= 1 s, the whole command), against a naive baseline: the same libraries called
// directly by bench/plots-baseline.mjs. No peer tool (DVC, vl2svg) is installed here.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  REPO_ROOT,
  benchRoot,
  cairnArgv,
  fmtSec,
  log,
  printTable,
  printTargets,
  runCount,
  start,
  target,
  timeRuns,
  freshCairnRepo,
  writeResult,
} from './lib.mjs';

export const description =
  'plots show of a 10,000-point linear plot to SVG and PNG (target <= 1 s) vs the libraries alone';

const POINTS = 10_000;

function writeData(dir) {
  const rows = ['step,loss'];
  for (let i = 0; i < POINTS; i++)
    rows.push(`${i},${(Math.exp(-i / 2000) + 0.05 * Math.sin(i / 37)).toFixed(6)}`);
  fs.writeFileSync(path.join(dir, 'loss.csv'), `${rows.join('\n')}\n`);
  fs.writeFileSync(
    path.join(dir, 'dvc.yaml'),
    'plots:\n  - loss.csv:\n      x: step\n      y: loss\n      template: linear\n',
  );
}

export async function run() {
  const loadBefore = start('plots', description);
  const runs = runCount(5);
  const dir = path.join(benchRoot(), 'plots');
  fs.mkdirSync(dir, { recursive: true });
  freshCairnRepo(dir, []);
  writeData(dir);
  const out = path.join(dir, 'out');
  const cairn = timeRuns(
    'cairn plots show',
    cairnArgv('plots', 'show', '--svg', '--png', '-o', out),
    {
      runs,
      cwd: dir,
      prepare: () => fs.rmSync(out, { recursive: true, force: true }),
    },
  );
  for (const f of ['loss.csv.svg', 'loss.csv.png'])
    if (!fs.existsSync(path.join(out, f))) throw new Error(`cairn wrote no ${f}`);
  const baseline = timeRuns(
    'libraries alone',
    [process.execPath, path.join(REPO_ROOT, 'bench', 'plots-baseline.mjs'), 'loss.csv', 'base'],
    { runs, cwd: dir },
  );
  log('');
  printTable([
    ['command', 'median', 'min', 'max', 'CPU u+s', 'max RSS'],
    ...[cairn, baseline].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      fmtSec(r.cpu_s),
      `${Math.round((r.max_rss_bytes ?? 0) / 2 ** 20)} MiB`,
    ]),
  ]);
  log('');
  const targets = [target('plots show 10k points to SVG and PNG', cairn.median_s, '<=', 1, 's')];
  printTargets(targets);
  writeResult('plots', { loadBefore, runs, points: POINTS, results: { cairn, baseline }, targets });
}
