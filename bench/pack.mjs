// ModelKit benchmarks: `cairn pack` / `cairn unpack` against `openssl dgst -sha256` on the same
// bytes, packing a 70,000-file tree, and peak memory packing a 10 GiB file.
//   pack-1gib       pack of one 1 GiB random file   (target: throughput >= 0.8x openssl sha256)
//   unpack-1gib     unpack of that ModelKit         (target: throughput >= 0.8x openssl sha256)
//   pack-mnist      pack of a 70,000-file dataset   (target: <= 3 s)
//   pack-10gib-mem  pack of a 10 GiB (sparse) file  (target: max RSS <= 200 MiB)
// Run as `npm run bench -- pack-1gib` (bench/run.mjs imports this file with ?name=…) or
// directly as `node bench/pack.mjs <name>`.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import {
  GIB,
  MIB,
  benchEnv,
  benchRoot,
  cairnArgv,
  ensureMnist,
  fmtBytes,
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
  warmPageCache,
  writeResult,
  ensureRandomFile,
  setAside,
} from './lib.mjs';

const BENCHES = {
  'pack-1gib': {
    description: 'cairn pack of one 1 GiB random file vs openssl dgst -sha256 (target >= 0.8x)',
    run: pack1gib,
  },
  'unpack-1gib': {
    description: 'cairn unpack of a 1 GiB ModelKit vs openssl dgst -sha256 (target >= 0.8x)',
    run: unpack1gib,
  },
  'pack-mnist': {
    description: 'cairn pack of a 70k-file MNIST-like dataset directory (target <= 3 s)',
    run: packMnist,
  },
  'pack-10gib-mem': {
    description: 'peak RSS of cairn pack of a 10 GiB file (target <= 200 MiB)',
    run: pack10gibMem,
  },
};

const selfName = new URL(import.meta.url).searchParams.get('name');
export const description =
  selfName === null ? 'ModelKit benchmarks' : BENCHES[selfName].description;
export async function run() {
  await BENCHES[selfName].run();
}

const KITFILE_1GIB = 'manifestVersion: 1.0.0\npackage:\n  name: bench\nmodel:\n  path: big.bin\n';

function bigFileDir() {
  const { dir, file } = ensureRandomFile('pack-1gib', GIB, 'cairn-bench-pack-1gib');
  fs.writeFileSync(path.join(dir, 'Kitfile'), KITFILE_1GIB);
  return { dir, file };
}

/** An environment with its own, empty store. */
function storeEnv(name) {
  const home = path.join(benchRoot(), `${name}-home`);
  return { home, env: { ...benchEnv(), CAIRN_HOME: home, SOURCE_DATE_EPOCH: '1700000000' } };
}

const tput = (bytes, r) => bytes / r.median_s;

/**
 * Sets `p` aside (never deletes it: see setAside) and runs `sync`, so neither the previous
 * run's writeback nor the trimming of its freed blocks is billed to the next timed run.
 */
function settle(p) {
  setAside(p);
  sh(['sync']);
}

function compareWithOpenssl(name, label, cairn, openssl, bytes, loadBefore, data, floor) {
  const ratio = tput(bytes, cairn) / tput(bytes, openssl);
  log('');
  printTable([
    ['tool', 'median', 'min', 'max', 'MiB/s', 'max RSS', 'vs openssl'],
    ...[cairn, openssl, ...(floor === undefined ? [] : [floor])].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      (tput(bytes, r) / MIB).toFixed(0),
      fmtBytes(r.max_rss_bytes),
      `${(tput(bytes, r) / tput(bytes, openssl)).toFixed(2)}x`,
    ]),
  ]);
  log('');
  const targets = [
    target(`${label} throughput / openssl sha256 throughput`, ratio, '>=', 0.8, 'x'),
  ];
  printTargets(targets);
  writeResult(name, {
    loadBefore,
    data,
    results: {
      cairn: { ...cairn, throughput_bytes_per_s: tput(bytes, cairn) },
      openssl_sha256: { ...openssl, throughput_bytes_per_s: tput(bytes, openssl) },
      ...(floor === undefined
        ? {}
        : { write_floor: { ...floor, throughput_bytes_per_s: tput(bytes, floor) } }),
    },
    ratios: {
      cairn_vs_openssl_throughput: ratio,
      ...(floor === undefined
        ? {}
        : { cairn_vs_write_floor_throughput: tput(bytes, cairn) / tput(bytes, floor) }),
    },
    targets,
  });
}

async function pack1gib() {
  requireTools('openssl', '/usr/bin/time');
  const loadBefore = start('pack-1gib', BENCHES['pack-1gib'].description);
  const runs = runCount(5);
  const { dir, file } = bigFileDir();
  const { home, env } = storeEnv('pack-1gib');
  warmPageCache(file);
  const fresh = () => settle(home);
  fresh();
  timeRuns('cairn pack (warm-up)', cairnArgv('pack', '.', '-t', 'bench:v1', '-q'), {
    runs: 1,
    cwd: dir,
    env,
  });
  const cairn = timeRuns('cairn pack', cairnArgv('pack', '.', '-t', 'bench:v1', '-q'), {
    runs,
    cwd: dir,
    env,
    prepare: fresh,
  });
  const openssl = timeRuns('openssl dgst -sha256', ['openssl', 'dgst', '-sha256', 'big.bin'], {
    runs,
    cwd: dir,
  });
  // Context: writing a 1 GiB copy at all (what any store, kit's too, pays), the same way.
  const copy = path.join(benchRoot(), 'pack-1gib-copy.bin');
  const cp = timeRuns('cp (floor: write 1 GiB)', ['cp', 'big.bin', copy], {
    runs,
    cwd: dir,
    prepare: () => settle(copy),
  });
  fs.rmSync(copy, { force: true });
  fresh();
  compareWithOpenssl(
    'pack-1gib',
    'cairn pack',
    cairn,
    openssl,
    GIB,
    loadBefore,
    {
      file_bytes: GIB,
      path: file,
    },
    cp,
  );
}

async function unpack1gib() {
  requireTools('openssl', '/usr/bin/time');
  const loadBefore = start('unpack-1gib', BENCHES['unpack-1gib'].description);
  const runs = runCount(5);
  const { dir } = bigFileDir();
  const { home, env } = storeEnv('unpack-1gib');
  fs.rmSync(home, { recursive: true, force: true });
  sh(cairnArgv('pack', '.', '-t', 'bench:v1', '-q'), { cwd: dir, env });
  const out = path.join(benchRoot(), 'unpack-1gib-out');
  const fresh = () => settle(out);
  const manifest = JSON.parse(
    sh(cairnArgv('inspect', 'bench:v1', '--json'), { cwd: dir, env }).stdout,
  ).manifest;
  const blob = path.join(home, 'storage', 'blobs', 'sha256', manifest.layers[0].digest.slice(7));
  warmPageCache(blob);
  const argv = cairnArgv('unpack', 'bench:v1', '-d', out, '-q');
  fresh();
  timeRuns('cairn unpack (warm-up)', argv, { runs: 1, cwd: dir, env });
  const cairn = timeRuns('cairn unpack', argv, { runs, cwd: dir, env, prepare: fresh });
  const openssl = timeRuns('openssl dgst -sha256 (blob)', ['openssl', 'dgst', '-sha256', blob], {
    runs,
    cwd: dir,
  });
  const copy = path.join(benchRoot(), 'unpack-1gib-copy.bin');
  const cp = timeRuns('cp (floor: write 1 GiB)', ['cp', blob, copy], {
    runs,
    cwd: dir,
    prepare: () => settle(copy),
  });
  fs.rmSync(copy, { force: true });
  fresh();
  fs.rmSync(home, { recursive: true, force: true });
  compareWithOpenssl(
    'unpack-1gib',
    'cairn unpack',
    cairn,
    openssl,
    GIB,
    loadBefore,
    {
      layer_bytes: manifest.layers[0].size,
    },
    cp,
  );
}

async function packMnist() {
  requireTools('/usr/bin/time');
  const loadBefore = start('pack-mnist', BENCHES['pack-mnist'].description);
  const runs = runCount(3);
  const { dir } = ensureMnist();
  // The Kitfile lives outside the shared data dir (other benchmarks use it): `-f` names it.
  const kitfile = path.join(benchRoot(), 'pack-mnist.Kitfile');
  fs.writeFileSync(
    kitfile,
    'manifestVersion: 1.0.0\npackage:\n  name: mnist\ndatasets:\n  - name: mnist\n    path: mnist\n',
  );
  const { home, env } = storeEnv('pack-mnist');
  warmPageCache(path.join(dir, 'mnist'));
  const fresh = () => settle(home);
  const argv = cairnArgv('pack', '.', '-f', kitfile, '-t', 'mnist:v1', '-q');
  fresh();
  timeRuns('cairn pack (warm-up)', argv, { runs: 1, cwd: dir, env });
  const cairn = timeRuns('cairn pack', argv, { runs, cwd: dir, env, prepare: fresh });
  const tar = timeRuns(
    'tar cf (GNU, context)',
    ['tar', 'cf', path.join(benchRoot(), 'mnist.tar'), 'mnist'],
    { runs, cwd: dir },
  );
  fs.rmSync(path.join(benchRoot(), 'mnist.tar'), { force: true });
  fs.rmSync(kitfile, { force: true });
  fresh();
  log('');
  printTable([
    ['tool', 'median', 'min', 'max', 'max RSS'],
    ...[cairn, tar].map((r) => [
      r.label,
      fmtSec(r.median_s),
      fmtSec(r.min_s),
      fmtSec(r.max_s),
      fmtBytes(r.max_rss_bytes),
    ]),
  ]);
  log('');
  const targets = [target('cairn pack of 70,000 files', cairn.median_s, '<=', 3, ' s')];
  printTargets(targets);
  writeResult('pack-mnist', {
    loadBefore,
    data: { files: 70000 },
    results: { cairn, gnu_tar: tar },
    targets,
  });
}

async function pack10gibMem() {
  requireTools('/usr/bin/time');
  const loadBefore = start('pack-10gib-mem', BENCHES['pack-10gib-mem'].description);
  const dir = path.join(benchRoot(), 'pack-10gib');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // A sparse file: 10 GiB of zeros that cost no disk to make (the store copy is real).
  const fd = fs.openSync(path.join(dir, 'big.bin'), 'w');
  fs.ftruncateSync(fd, 10 * GIB);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, 'Kitfile'), KITFILE_1GIB);
  const { home, env } = storeEnv('pack-10gib');
  fs.rmSync(home, { recursive: true, force: true });
  const r = timeRuns('cairn pack 10 GiB', cairnArgv('pack', '.', '-t', 'big:v1', '-q'), {
    runs: runCount(1),
    cwd: dir,
    env,
  });
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  log('');
  log(`  wall ${fmtSec(r.median_s)}, max RSS ${fmtBytes(r.max_rss_bytes)}`);
  const targets = [target('max RSS packing 10 GiB', r.max_rss_bytes / MIB, '<=', 200, ' MiB')];
  printTargets(targets);
  writeResult('pack-10gib-mem', {
    loadBefore,
    data: { file_bytes: 10 * GIB, sparse: true },
    results: { cairn: r },
    targets,
  });
}

// `node bench/pack.mjs <name>`
if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const name = process.argv[2];
  if (!(name in BENCHES)) {
    process.stdout.write(`usage: node bench/pack.mjs ${Object.keys(BENCHES).join('|')}\n`);
    process.exit(2);
  }
  await BENCHES[name].run();
}
