// noop-mnist: after `cairn add mnist`, time a no-op `cairn status` and a no-op re-`cairn add
// mnist` (targets <= 0.3 s each); `git status` on the same tree in a git-lfs repo for context.
import {
  ensureMnist,
  cairnArgv,
  fmtSec,
  freshCairnRepo,
  freshLfsRepo,
  log,
  printTable,
  printTargets,
  requireTools,
  runCount,
  sh,
  start,
  target,
  timeRuns,
  warmPageCache,
  writeResult,
} from './lib.mjs';

export const description =
  'no-op cairn status and re-add on the 70k-file tree (targets <= 0.3 s each; git status for context)';

export async function run() {
  requireTools('git', 'git-lfs', '/usr/bin/time');
  const loadBefore = start('noop-mnist', description);
  const runs = runCount(5);
  const { dir, keep } = ensureMnist();
  log('warming the page cache (reading the tree once) ...');
  warmPageCache(`${dir}/mnist`);

  log('setup: fresh repo, cairn add mnist (untimed)');
  freshCairnRepo(dir, keep);
  sh(cairnArgv('add', 'mnist'), { cwd: dir });
  // One untimed call each: the first status after add may legitimately differ (e.g. an
  // index being written); the target is about the steady state.
  const firstStatus = timeRuns('cairn status (first, untimed)', cairnArgv('status'), {
    runs: 1,
    cwd: dir,
  });
  log(`timing ${runs} runs each (median reported):`);
  const status = timeRuns('cairn status', cairnArgv('status'), { runs, cwd: dir });
  const readd = timeRuns('cairn add mnist (no-op)', cairnArgv('add', 'mnist'), { runs, cwd: dir });
  const statusOut = sh(cairnArgv('status'), { cwd: dir }).stdout.trim();
  log(`  cairn status says: ${JSON.stringify(statusOut)}`);

  log('setup: fresh git-lfs repo, git lfs track + git add (untimed)');
  freshLfsRepo(dir, keep);
  sh(['git', 'lfs', 'track', 'mnist/**'], { cwd: dir });
  sh(['git', 'add', '.gitattributes', 'mnist'], { cwd: dir });
  sh(['git', 'status', '--porcelain'], { cwd: dir }); // refresh the index stat info once
  const gitStatus = timeRuns('git status (lfs repo)', ['git', 'status'], { runs, cwd: dir });
  freshCairnRepo(dir, keep);

  log('');
  printTable([
    ['command', 'median', 'min', 'max', 'CPU u+s', 'vs git status'],
    ...[status, readd, gitStatus].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      fmtSec(r.cpu_s),
      `${(r.median_s / gitStatus.median_s).toFixed(2)}x`,
    ]),
  ]);
  log('');
  const targets = [
    target('no-op cairn status', status.median_s, '<=', 0.3, 's'),
    target('no-op cairn add mnist', readd.median_s, '<=', 0.3, 's'),
  ];
  printTargets(targets);

  writeResult('noop-mnist', {
    loadBefore,
    data: { path: `${dir}/mnist`, files: 70000 },
    runs,
    results: {
      cairn_status_first: firstStatus,
      cairn_status: status,
      cairn_readd: readd,
      git_status_lfs_repo: gitStatus,
    },
    cairn_status_output: statusOut,
    targets,
  });
}
