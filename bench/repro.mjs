// repro: pipeline speed. No-op `cairn repro` of a generated 1,000-stage chain and of a
// 1,000-stage fan-out, each against `make -q` over an equivalent Makefile measured in the same
// run (targets <= 0.5 s; the ratio is reported), and a 10-stage diamond of `sleep 1` stages
// with -j 4 (target <= 4.5 s: 1 + 8/4 + 1 = 4 s of sleeping).
import fs from 'node:fs';
import path from 'node:path';
import {
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

export const description =
  'no-op repro of 1,000-stage chain and fan-out vs make -q (<= 0.5 s); 10-stage sleep diamond -j 4 (<= 4.5 s)';

const N = 1000;

function chain() {
  const stages = [];
  const rules = ['all: s1000.txt', ''];
  for (let i = 1; i <= N; i++) {
    stages.push(
      `  s${i}:\n    cmd: cp s${i - 1}.txt s${i}.txt\n    deps: [s${i - 1}.txt]\n    outs: [s${i}.txt]`,
    );
    rules.push(`s${i}.txt: s${i - 1}.txt\n\tcp s${i - 1}.txt s${i}.txt`);
  }
  return { seed: 's0.txt', yaml: `stages:\n${stages.join('\n')}\n`, make: `${rules.join('\n')}\n` };
}

function fanout() {
  const stages = [];
  const names = [];
  const rules = [];
  for (let i = 1; i <= N; i++) {
    stages.push(
      `  f${i}:\n    cmd: cp s0.txt f${i}.txt\n    deps: [s0.txt]\n    outs: [f${i}.txt]`,
    );
    names.push(`f${i}.txt`);
    rules.push(`f${i}.txt: s0.txt\n\tcp s0.txt f${i}.txt`);
  }
  return {
    seed: 's0.txt',
    yaml: `stages:\n${stages.join('\n')}\n`,
    make: `all: ${names.join(' ')}\n\n${rules.join('\n')}\n`,
  };
}

/** A fresh git + Cairn repo (and a Makefile twin) with the pipeline built once. */
function prepare(name, spec) {
  const dir = path.join(benchRoot(), `repro-${name}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const repo = path.join(dir, 'repo');
  const mk = path.join(dir, 'make');
  fs.mkdirSync(repo, { recursive: true });
  fs.mkdirSync(mk, { recursive: true });
  sh(['git', 'init', '-q'], { cwd: repo });
  sh(cairnArgv('init', '-q'), { cwd: repo });
  fs.writeFileSync(path.join(repo, spec.seed), 'seed\n');
  fs.writeFileSync(path.join(repo, 'dvc.yaml'), spec.yaml);
  fs.writeFileSync(path.join(mk, spec.seed), 'seed\n');
  fs.writeFileSync(path.join(mk, 'Makefile'), spec.make);
  log(`building ${name} once (${N} stages) ...`);
  sh(cairnArgv('repro', '-q'), { cwd: repo });
  sh(['make', '-s', '-j', '4'], { cwd: mk });
  sh(['make', '-q'], { cwd: mk });
  return { repo, mk };
}

function diamond() {
  const dir = path.join(benchRoot(), 'repro-diamond');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  sh(['git', 'init', '-q'], { cwd: dir });
  sh(cairnArgv('init', '-q'), { cwd: dir });
  const mids = Array.from({ length: 8 }, (_, i) => `m${i + 1}`);
  const yaml = [
    'stages:',
    '  top:\n    cmd: sleep 1 && echo top > top.txt\n    outs: [top.txt]',
    ...mids.map(
      (m) =>
        `  ${m}:\n    cmd: sleep 1 && cat top.txt > ${m}.txt\n    deps: [top.txt]\n    outs: [${m}.txt]`,
    ),
    `  bottom:\n    cmd: sleep 1 && cat ${mids.map((m) => `${m}.txt`).join(' ')} > bottom.txt\n    deps: [${mids.map((m) => `${m}.txt`).join(', ')}]\n    outs: [bottom.txt]`,
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'dvc.yaml'), `${yaml}\n`);
  return dir;
}

export async function run() {
  requireTools('git', 'make', '/usr/bin/time');
  const loadBefore = start('repro', description);
  const runs = runCount(5);
  const rows = [['scenario', 'cairn repro (no-op)', 'make -q', 'ratio']];
  const results = {};
  const targets = [];
  for (const [name, spec] of [
    ['chain', chain()],
    ['fanout', fanout()],
  ]) {
    const { repo, mk } = prepare(name, spec);
    const cairn = timeRuns(`cairn repro ${name}`, cairnArgv('repro', '-q'), { runs, cwd: repo });
    const make = timeRuns(`make -q ${name}`, ['make', '-q'], { runs, cwd: mk });
    const ratio = cairn.median_s / make.median_s;
    results[name] = { stages: N, cairn, make, ratio };
    rows.push([
      `${N}-stage ${name}`,
      fmtSec(cairn.median_s),
      fmtSec(make.median_s),
      `${ratio.toFixed(1)}x`,
    ]);
    targets.push(target(`no-op repro, ${N}-stage ${name}`, cairn.median_s, '<=', 0.5, 's'));
  }
  const dir = diamond();
  const diamondRuns = runCount(3);
  const d = timeRuns('diamond -j 4', cairnArgv('repro', '-q', '-f', '--no-run-cache', '-j', '4'), {
    runs: diamondRuns,
    cwd: dir,
  });
  results.diamond = { stages: 10, jobs: 4, cairn: d };
  rows.push(['10-stage sleep-1 diamond, -j 4', fmtSec(d.median_s), '-', '-']);
  targets.push(target('10-stage diamond of sleep 1, -j 4', d.median_s, '<=', 4.5, 's'));
  log('');
  printTable(rows);
  log('');
  printTargets(targets);
  writeResult('repro', { loadBefore, runs, results, targets });
}
