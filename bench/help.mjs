// help: `cairn --help` start-up time (target <= 150 ms), with `git --help` and `node -e 0`
// for context. Uses hyperfine when installed, else a node loop.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  benchRoot,
  cairnArgv,
  fmtSec,
  log,
  printTable,
  printTargets,
  runCount,
  sh,
  start,
  summarize,
  target,
  timeOnce,
  which,
  writeResult,
} from './lib.mjs';

export const description = 'cairn --help wall time vs git --help and node -e 0 (target <= 150 ms)';

const COMMANDS = [
  { label: 'cairn --help', argv: cairnArgv('--help') },
  { label: 'git --help', argv: ['git', '--help'] },
  { label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
];

function quote(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export async function run() {
  const loadBefore = start('help', description);
  const runs = runCount(20);
  const cwd = benchRoot();
  let results;
  let method;
  if (which('hyperfine') !== null) {
    method = 'hyperfine --warmup 3 -N';
    const json = path.join(cwd, 'help-hyperfine.json');
    log(`hyperfine: ${runs} runs each after 3 warm-ups`);
    sh(
      [
        'hyperfine',
        '--warmup',
        '3',
        '--runs',
        String(runs),
        '-N',
        '--style',
        'basic',
        '--export-json',
        json,
        ...COMMANDS.flatMap((c) => ['-n', c.label, c.argv.map(quote).join(' ')]),
      ],
      { cwd },
    );
    const hf = JSON.parse(fs.readFileSync(json, 'utf8'));
    fs.rmSync(json, { force: true });
    results = hf.results.map((r, i) => ({
      ...summarize(
        COMMANDS[i].label,
        COMMANDS[i].argv,
        r.times.map((t) => ({ wall_s: t })),
      ),
      mean_s: r.mean,
      stddev_s: r.stddev,
      user_s: r.user,
      sys_s: r.system,
      cpu_s: r.user + r.system, // hyperfine reports means
    }));
  } else {
    method = 'node loop (hyperfine not installed: apt-get install hyperfine)';
    log(
      `hyperfine not found (apt-get install hyperfine); node loop, ${runs} runs after 3 warm-ups`,
    );
    results = COMMANDS.map((c) => {
      for (let i = 0; i < 3; i++) timeOnce(c.argv, { cwd });
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(timeOnce(c.argv, { cwd }));
      return summarize(c.label, c.argv, samples);
    });
  }

  const [cairn, git] = results;
  const node = results[2];
  log('');
  printTable([
    ['command', 'median', 'min', 'max', 'CPU u+s', 'vs node -e 0'],
    ...results.map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      fmtSec(r.cpu_s),
      `${(r.median_s / node.median_s).toFixed(2)}x`,
    ]),
  ]);
  log('');
  const targets = [target('cairn --help wall time', cairn.median_s, '<=', 0.15, 's')];
  printTargets(targets);

  writeResult('help', {
    loadBefore,
    method,
    runs,
    results: { cairn_help: cairn, git_help: git, node_e_0: node },
    targets,
  });
}
