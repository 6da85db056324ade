// add-mnist: `cairn add mnist` of a 70,000-file MNIST-shaped tree, against git-lfs tracking
// and adding the same tree. Targets: >= 5x faster than git-lfs and <= 3 s. `cp -r` of the
// tree is timed for context: the floor for writing 70,000 files on this filesystem.
import {
  ensureMnist,
  cairnArgv,
  clearExcept,
  fmtSec,
  freshCairnRepo,
  freshLfsRepo,
  log,
  printTable,
  printTargets,
  requireTools,
  runCount,
  start,
  summarize,
  target,
  timeOnce,
  timeRuns,
  warmPageCache,
  writeResult,
} from './lib.mjs';

export const description =
  'cairn add of a 70k-file MNIST-like tree vs git lfs track+add (targets >= 5x lfs, <= 3 s)';

export async function run() {
  requireTools('git', 'git-lfs', '/usr/bin/time');
  const loadBefore = start('add-mnist', description);
  const runs = runCount(3);
  const lfsRuns = runCount(Math.min(runs, 3), 'CAIRN_BENCH_LFS_RUNS');
  const { dir, keep } = ensureMnist();
  log('warming the page cache (reading the tree once) ...');
  warmPageCache(`${dir}/mnist`);

  log(`timing ${runs} cairn runs and ${lfsRuns} git-lfs runs (fresh repo per run):`);
  freshCairnRepo(dir, keep);
  timeRuns('cairn add (warm-up)', cairnArgv('add', 'mnist'), { runs: 1, cwd: dir });
  const cairn = timeRuns('cairn add', cairnArgv('add', 'mnist'), {
    runs,
    cwd: dir,
    prepare: () => freshCairnRepo(dir, keep),
  });

  // git-lfs: `git lfs track` and `git add` are timed together (both are what a user runs).
  const lfsSamples = [];
  for (let i = 0; i < lfsRuns; i++) {
    freshLfsRepo(dir, keep);
    const track = timeOnce(['git', 'lfs', 'track', 'mnist/**'], { cwd: dir });
    const add = timeOnce(['git', 'add', '.gitattributes', 'mnist'], { cwd: dir });
    const s = {
      wall_s: track.wall_s + add.wall_s,
      user_s: track.user_s + add.user_s,
      sys_s: track.sys_s + add.sys_s,
      max_rss_bytes: Math.max(track.max_rss_bytes, add.max_rss_bytes),
      track_s: track.wall_s,
      add_s: add.wall_s,
    };
    lfsSamples.push(s);
    log(
      `  git lfs track+add run ${i + 1}/${lfsRuns}: ${fmtSec(s.wall_s)}` +
        ` (track ${fmtSec(track.wall_s)}, add ${fmtSec(add.wall_s)})`,
    );
  }
  const lfs = summarize(
    'git lfs track+add',
    ['git', 'lfs', 'track', 'mnist/**', '&&', 'git', 'add', '.gitattributes', 'mnist'],
    lfsSamples,
  );
  // Context: the cost of creating 70,000 files on this filesystem at all (what any tool that
  // writes one cache object per file pays), measured the same way.
  const cp = timeRuns('cp -r mnist (floor)', ['cp', '-r', 'mnist', 'mnist-copy'], {
    runs: lfsRuns,
    cwd: dir,
    prepare: () => clearExcept(dir, keep),
  });
  freshCairnRepo(dir, keep);

  const speedup = lfs.median_s / cairn.median_s;
  log('');
  printTable([
    ['tool', 'median', 'min', 'max', 'CPU u+s', 'files/s', 'vs cairn'],
    ...[cairn, lfs, cp].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      fmtSec(r.cpu_s),
      (70000 / r.median_s).toFixed(0),
      `${(r.median_s / cairn.median_s).toFixed(2)}x`,
    ]),
  ]);
  log('');
  const targets = [
    target('git-lfs time / cairn time', speedup, '>=', 5, 'x'),
    target('cairn add mnist wall time', cairn.median_s, '<=', 3, 's'),
  ];
  printTargets(targets);

  writeResult('add-mnist', {
    loadBefore,
    data: { path: `${dir}/mnist`, files: 70000, layout: 'mnist/{train,test}/{0..9}/NNNNN.png' },
    runs: { cairn: runs, git_lfs: lfsRuns, cp_r: lfsRuns },
    results: { cairn, git_lfs: lfs, cp_r_floor: cp },
    ratios: { lfs_over_cairn: speedup },
    targets,
  });
}
