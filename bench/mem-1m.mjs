// mem-1m: peak RSS of `cairn add` on a directory of 1,000,000 small files (1000 dirs x 1000
// files x 64 bytes), measured with `/usr/bin/time -v` (worker threads are in-process, so the
// figure covers them). Target: <= 1 GiB. Wall time is reported too.
import fs from 'node:fs';
import path from 'node:path';
import {
  GIB,
  benchRoot,
  cairnArgv,
  clearExcept,
  fmtBytes,
  fmtSec,
  freshCairnRepo,
  haveData,
  log,
  markData,
  printTable,
  printTargets,
  requireTools,
  runCount,
  sh,
  start,
  target,
  timeRuns,
  writeFlatTreeParallel,
  writeResult,
} from './lib.mjs';

export const description =
  'peak RSS of cairn add on 1,000,000 files of 64 bytes (target <= 1 GiB); slow: minutes';

const PARAMS = { dirs: 1000, filesPerDir: 1000, size: 64, seed: 'mem-1m', version: 1 };
const FILES = PARAMS.dirs * PARAMS.filesPerDir;

export async function run() {
  requireTools('git', 'md5sum', '/usr/bin/time');
  const loadBefore = start('mem-1m', description);
  const runs = runCount(1, 'CAIRN_BENCH_MEM_RUNS');
  const dir = path.join(benchRoot(), 'mem-1m');
  const marker = path.join(benchRoot(), 'mem-1m.ready');
  const data = path.join(dir, 'data');

  let generate_s = null;
  if (!haveData(marker, PARAMS)) {
    log(`making ${data} (1000 dirs x 1000 files x 64 bytes; takes a few minutes) ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    const t0 = Date.now();
    await writeFlatTreeParallel(data, PARAMS);
    generate_s = (Date.now() - t0) / 1000;
    log(`  written in ${fmtSec(generate_s)}`);
    markData(marker, PARAMS);
  } else {
    log(`reusing ${data} (delete ${marker} to regenerate)`);
  }

  log('warming the page cache (cat of every file) ...');
  sh(['sh', '-c', 'find data -type f -print0 | xargs -0 cat > /dev/null'], { cwd: dir });

  log('context: md5sum of every file (one process per xargs batch) ...');
  const md5 = timeRuns(
    'find | xargs md5sum',
    ['sh', '-c', 'find data -type f -print0 | xargs -0 md5sum > /dev/null'],
    { runs: 1, cwd: dir },
  );

  log(`timing ${runs} run(s) of cairn add data (fresh repo and empty cache each):`);
  const cairn = timeRuns('cairn add', cairnArgv('add', 'data'), {
    runs,
    cwd: dir,
    prepare: () => freshCairnRepo(dir, ['data']),
  });
  log('setting the 1M-object cache aside (deleted after the benchmark) ...');
  clearExcept(dir, ['data']);

  log('');
  printTable([
    ['command', 'median wall', 'user', 'sys', 'max RSS', 'files/s'],
    ...[cairn, md5].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.user_s),
      fmtSec(r.sys_s),
      fmtBytes(r.max_rss_bytes),
      (FILES / r.median_s).toFixed(0),
    ]),
  ]);
  log('');
  const targets = [target('cairn add peak RSS', cairn.max_rss_bytes, '<=', GIB, 'bytes')];
  printTargets(targets);

  writeResult('mem-1m', {
    loadBefore,
    data: { path: data, files: FILES, ...PARAMS, generate_s },
    runs,
    results: { cairn, md5sum_context: md5 },
    targets,
  });
}
