// add-1gib: `cairn add` of one 1 GiB file of random bytes, against md5sum on the same file.
// Cairn's throughput must be >= 0.9x md5sum's. `openssl md5` is reported as the ceiling.
import {
  GIB,
  cairnArgv,
  ensureRandomFile,
  fmtSec,
  freshCairnRepo,
  log,
  printTable,
  printTargets,
  requireTools,
  runCount,
  start,
  target,
  timeRuns,
  warmPageCache,
  writeResult,
} from './lib.mjs';

export const description = 'cairn add of one 1 GiB random file vs md5sum (target >= 0.9x md5sum)';

const SIZE = GIB;
const PARAMS = { size: SIZE, seed: 'cairn-bench-1gib', version: 1 };

export async function run() {
  requireTools('md5sum', 'openssl', 'git', '/usr/bin/time');
  const loadBefore = start('add-1gib', description);
  const runs = runCount(5);
  const { dir, file } = ensureRandomFile('add-1gib', SIZE, PARAMS.seed);
  log('warming the page cache (reading the file once) ...');
  warmPageCache(file);

  const keep = ['big.bin'];
  log(`timing ${runs} runs each (median reported; fresh repo and empty cache per cairn run):`);
  // One untimed cairn run first so the JIT-free startup and the cache dir layout are not
  // what the first timed run pays for alone (every timed run still gets a fresh repo).
  freshCairnRepo(dir, keep);
  timeRuns('cairn add (warm-up)', cairnArgv('add', 'big.bin'), { runs: 1, cwd: dir });

  const cairn = timeRuns('cairn add', cairnArgv('add', 'big.bin'), {
    runs,
    cwd: dir,
    prepare: () => freshCairnRepo(dir, keep),
  });
  const md5sum = timeRuns('md5sum', ['md5sum', 'big.bin'], { runs, cwd: dir });
  const openssl = timeRuns('openssl md5', ['openssl', 'md5', 'big.bin'], { runs, cwd: dir });
  freshCairnRepo(dir, keep); // leave no 1 GiB cache object behind

  const tput = (r) => SIZE / r.median_s;
  const ratio = tput(cairn) / tput(md5sum);
  log('');
  printTable([
    ['tool', 'median', 'min', 'max', 'CPU u+s', 'MiB/s', 'vs md5sum'],
    ...[cairn, md5sum, openssl].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      fmtSec(r.cpu_s),
      (tput(r) / 1024 ** 2).toFixed(0),
      `${(tput(r) / tput(md5sum)).toFixed(2)}x`,
    ]),
  ]);
  log('');
  const targets = [target('cairn throughput / md5sum throughput', ratio, '>=', 0.9, 'x')];
  printTargets(targets);

  writeResult('add-1gib', {
    loadBefore,
    data: { file_bytes: SIZE, seed: PARAMS.seed, path: file },
    runs,
    results: {
      cairn: { ...cairn, throughput_bytes_per_s: tput(cairn) },
      md5sum: { ...md5sum, throughput_bytes_per_s: tput(md5sum) },
      openssl_md5: { ...openssl, throughput_bytes_per_s: tput(openssl) },
    },
    ratios: {
      cairn_vs_md5sum_throughput: ratio,
      cairn_vs_openssl_throughput: tput(cairn) / tput(openssl),
    },
    targets,
  });
}
