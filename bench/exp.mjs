// exp: experiment speed. `exp show --json` over 500 experiments written with git fast-import
// (<= 1 s); `exp run` overhead beyond the pipeline, against `repro -f` of the same one-stage
// pipeline (<= 0.3 s); `exp queue start -j 2` of 20 experiments of one second each (<= 12 s).
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { URL } from 'node:url';
import {
  benchEnv,
  benchRoot,
  cairnArgv,
  fmtSec,
  log,
  printTable,
  printTargets,
  requireTools,
  runCount,
  sh,
  start,
  target,
  timeRuns,
  writeResult,
} from './lib.mjs';

const selfName = new URL(import.meta.url).searchParams.get('name');
export const description =
  selfName === 'exp-show'
    ? 'exp show --json over 500 experiments made with git fast-import (<= 1 s)'
    : selfName === 'exp-run'
      ? 'exp run overhead beyond repro -f of the same pipeline (<= 0.3 s)'
      : 'exp queue start -j 2 of 20 one-second experiments (<= 12 s)';

const PARAMS = (lr, seed) => `train:\n  lr: ${lr}\n  epochs: 10\n  seed: ${seed}\n  sleep: 0\n`;
const TRAIN_SH = `#!/bin/sh
# train.sh SLEEP LR SEED
sleep "$1"
printf '{"loss": %s, "seed": %s}\\n' "$2" "$3" > metrics.json
echo "$3" > model.bin
`;
const DVC_YAML = `stages:
  train:
    cmd: sh train.sh \${train.sleep} \${train.lr} \${train.seed}
    deps: [train.sh]
    params: [train]
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
`;

/** A git + Cairn repo whose HEAD holds the pipeline, reproduced once. */
function pipelineRepo(name) {
  const dir = path.join(benchRoot(), `exp-${name}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  sh(['git', 'init', '-q'], { cwd: dir });
  sh(cairnArgv('init', '-q'), { cwd: dir });
  fs.writeFileSync(path.join(dir, 'params.yaml'), PARAMS(0.1, 0));
  fs.writeFileSync(path.join(dir, 'dvc.yaml'), DVC_YAML);
  fs.writeFileSync(path.join(dir, 'train.sh'), TRAIN_SH);
  sh(cairnArgv('repro', '-q'), { cwd: dir });
  sh(['git', 'add', '-A'], { cwd: dir });
  sh(['git', 'commit', '-qm', 'baseline'], { cwd: dir });
  return dir;
}

/** 500 experiment commits on the baseline, in DVC's layout, through one git fast-import. */
function writeExperiments(dir, n) {
  const baseline = sh(['git', 'rev-parse', 'HEAD'], { cwd: dir }).stdout.trim();
  const lock = fs.readFileSync(path.join(dir, 'dvc.lock'), 'utf8');
  const parts = [];
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  for (let i = 0; i < n; i++) {
    const lr = Number((0.001 * (i + 1)).toPrecision(6));
    const ref = `refs/exps/${baseline.slice(0, 2)}/${baseline.slice(2)}/exp-${i}`;
    parts.push(
      `commit ${ref}\ncommitter Bench <bench@example.invalid> ${1796000000 + i} +0000\n` +
        data(`dvc: commit experiment ${String(i).padStart(64, '0')}`) +
        `from ${baseline}\n` +
        `M 100644 inline params.yaml\n${data(PARAMS(lr, i))}` +
        `M 100644 inline metrics.json\n${data(`{"loss": ${1 - lr}, "acc": ${lr * 0.9}, "seed": ${i}}\n`)}` +
        `M 100644 inline dvc.lock\n${data(lock.replace('lr: 0.1', `lr: ${lr}`).replace('seed: 0', `seed: ${i}`))}\n`,
    );
  }
  const r = spawnSync('git', ['fast-import', '--quiet'], {
    cwd: dir,
    env: benchEnv(),
    input: parts.join(''),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git fast-import failed: ${r.stderr}`);
}

async function expShow() {
  requireTools('git', '/usr/bin/time');
  const loadBefore = start('exp-show', description);
  const dir = pipelineRepo('show');
  const n = 500;
  log(`writing ${n} experiments with git fast-import ...`);
  writeExperiments(dir, n);
  const rows = sh(cairnArgv('exp', 'list'), { cwd: dir }).stdout.trim().split('\n').length - 1;
  if (rows !== n) throw new Error(`expected ${n} experiments, exp list shows ${rows}`);
  const runs = runCount(5);
  const show = timeRuns('exp show --json', cairnArgv('exp', 'show', '--json'), { runs, cwd: dir });
  const table = timeRuns('exp show (table)', cairnArgv('exp', 'show'), { runs, cwd: dir });
  log('');
  printTable([
    ['command', `median of ${runs}`],
    [`exp show --json, ${n} experiments`, fmtSec(show.median_s)],
    [`exp show (table), ${n} experiments`, fmtSec(table.median_s)],
  ]);
  const targets = [target(`exp show --json, ${n} experiments`, show.median_s, '<=', 1, 's')];
  log('');
  printTargets(targets);
  writeResult('exp-show', { loadBefore, runs, experiments: n, results: { show, table }, targets });
}

async function expRun() {
  requireTools('git', '/usr/bin/time');
  const loadBefore = start('exp-run', description);
  const dir = pipelineRepo('run');
  const runs = runCount(5);
  const repro = timeRuns(
    'repro -f --no-run-cache',
    cairnArgv('repro', '-q', '-f', '--no-run-cache'),
    {
      runs,
      cwd: dir,
    },
  );
  sh(['git', 'checkout', '-q', '--', '.'], { cwd: dir });
  // The same params each run (a generated name each time), so the pipeline does the same work.
  const exp = timeRuns(
    'exp run -S',
    cairnArgv('exp', 'run', '-q', '--no-run-cache', '-S', 'train.seed=0'),
    {
      runs,
      cwd: dir,
    },
  );
  const overhead = exp.median_s - repro.median_s;
  log('');
  printTable([
    ['command', `median of ${runs}`],
    ['repro -f (one stage)', fmtSec(repro.median_s)],
    ['exp run -S (same stage, temp worktree, commit, ref)', fmtSec(exp.median_s)],
    ['overhead', fmtSec(overhead)],
  ]);
  const targets = [target('exp run overhead beyond the pipeline', overhead, '<=', 0.3, 's')];
  log('');
  printTargets(targets);
  writeResult('exp-run', {
    loadBefore,
    runs,
    results: { repro, exp, overhead_s: overhead },
    targets,
  });
}

async function expQueue() {
  requireTools('git', '/usr/bin/time');
  const loadBefore = start('exp-queue', description);
  const dir = pipelineRepo('queue');
  const runs = runCount(1);
  let round = 0;
  const q = timeRuns('exp queue start -j 2', cairnArgv('exp', 'queue', 'start', '-j', '2'), {
    runs,
    cwd: dir,
    // 20 new experiments each round (new seeds: no run-cache hits), queued untimed
    prepare: () => {
      const from = round * 20;
      round += 1;
      sh(
        cairnArgv(
          'exp',
          'run',
          '--queue',
          '-S',
          `train.seed=range(${from},${from + 20})`,
          '-S',
          'train.sleep=1',
        ),
        { cwd: dir },
      );
    },
  });
  log('');
  printTable([
    ['command', `median of ${runs}`],
    ['exp queue start -j 2, 20 x sleep 1', fmtSec(q.median_s)],
  ]);
  const targets = [
    target('exp queue start -j 2 of 20 one-second experiments', q.median_s, '<=', 12, 's'),
  ];
  log('');
  printTargets(targets);
  writeResult('exp-queue', { loadBefore, runs, results: { queue: q }, targets });
}

export async function run() {
  if (selfName === 'exp-show') await expShow();
  else if (selfName === 'exp-run') await expRun();
  else await expQueue();
}
