// Registry push: `cairn push` against `skopeo copy` of the same OCI layout to the same local
// registry, emptied (and skopeo's blob-info cache deleted) before every run.
//   push-1gib   one 1 GiB layer             (target >= 1.0x skopeo; the registry caps both)
//   push-64x16  64 layers of 16 MiB         (target >= 1.3x skopeo)
//   push-noop   everything already there    (target <= 0.3 s)
// Run as `npm run bench -- push-1gib` (bench/run.mjs imports this file with ?name=…).
import fs from 'node:fs';
import path from 'node:path';
import { URL } from 'node:url';
import {
  MIB,
  Prng,
  benchEnv,
  benchRoot,
  cairnArgv,
  fmtBytes,
  fmtSec,
  haveData,
  log,
  markData,
  printTable,
  printTargets,
  requireTools,
  runCount,
  sh,
  start,
  summarize,
  target,
  timeOnce,
  writeResult,
} from './lib.mjs';
import { mbps, seedBig, timeEach } from './pull.mjs';
import { REGISTRY_BIN, startBenchRegistry } from './registry.mjs';

const BENCHES = {
  'push-1gib': {
    description:
      'cairn push of a 1 GiB-layer ModelKit vs skopeo copy of its OCI layout (target >= 1.0x)',
    run: () => pushBench('push-1gib', seedBig, 'bench/big:v1', 1.0),
  },
  'push-64x16': {
    description:
      'cairn push of 64 layers of 16 MiB vs skopeo copy of its OCI layout (target >= 1.3x)',
    run: () => pushBench('push-64x16', seedLayers, 'bench/layers:v1', 1.3),
  },
  'push-noop': {
    description: 'cairn push when the registry has everything (target <= 0.3 s)',
    run: pushNoop,
  },
};

// `?name=all` (npm run bench -- push) runs the three in turn.
const selfName = new URL(import.meta.url).searchParams.get('name');
export const description =
  selfName === null || selfName === 'all'
    ? 'registry push benchmarks: push-1gib, push-64x16, push-noop'
    : BENCHES[selfName].description;
export async function run() {
  for (const n of selfName === 'all' ? Object.keys(BENCHES) : [selfName]) await BENCHES[n].run();
}

/** A store holding `bench/layers:v1`: 64 datasets of 16 MiB seeded bytes, one layer each. */
function seedLayers() {
  const dir = path.join(benchRoot(), 'push-64x16');
  const marker = path.join(benchRoot(), 'push-64x16.ready');
  const params = { files: 64, size: 16 * MIB, seed: 'cairn-bench-64x16', version: 1 };
  if (!haveData(marker, params)) {
    log(`making ${dir} (64 x 16 MiB, seeded) ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'd'), { recursive: true });
    const prng = new Prng(params.seed);
    for (let i = 0; i < params.files; i++) {
      fs.writeFileSync(
        path.join(dir, 'd', `f${String(i).padStart(2, '0')}.bin`),
        prng.bytes(params.size),
      );
    }
    const entries = Array.from(
      { length: params.files },
      (_, i) => `  - name: f${i}\n    path: d/f${String(i).padStart(2, '0')}.bin\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'Kitfile'),
      `manifestVersion: 1.0.0\npackage:\n  name: layers\ndatasets:\n${entries.join('')}`,
    );
    markData(marker, params);
  }
  const home = path.join(benchRoot(), 'registry-seed-layers');
  const env = { ...benchEnv(), CAIRN_HOME: home, SOURCE_DATE_EPOCH: '1700000000' };
  const have = sh(cairnArgv('inspect', 'bench/layers:v1', '-q'), {
    cwd: dir,
    env,
    allowFail: true,
  });
  if (have.status !== 0) {
    log('packing bench/layers:v1 ...');
    sh(cairnArgv('pack', '.', '-t', 'bench/layers:v1', '-q'), { cwd: dir, env });
  }
  return { dir, home, env: { ...env, CAIRN_REGISTRY_PLAIN_HTTP: '1' } };
}

function bytesOf(seed, ref) {
  const m = JSON.parse(
    sh(cairnArgv('inspect', ref, '--json'), { cwd: seed.dir, env: seed.env }).stdout,
  ).manifest;
  return [m.config, ...(m.layers ?? [])].reduce((s, d) => s + d.size, 0);
}

async function pushBench(name, makeSeed, local, goal) {
  requireTools('/usr/bin/time', 'skopeo', REGISTRY_BIN);
  const loadBefore = start(name, BENCHES[name].description);
  const runs = runCount(3);
  const seed = makeSeed();
  const bytes = bytesOf(seed, local);
  const reg = await startBenchRegistry(name);
  try {
    const ref = `${reg.host}/${local}`;
    // skopeo's source: the same ModelKit as an OCI layout (made by skopeo from the registry).
    const layout = path.join(benchRoot(), `${name}-layout`);
    fs.rmSync(layout, { recursive: true, force: true });
    sh(cairnArgv('push', local, ref, '-q'), { cwd: seed.dir, env: seed.env });
    sh(['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:v1`], {
      cwd: benchRoot(),
    });
    const cairn = await timeEach('cairn push', cairnArgv('push', local, ref, '-q'), {
      runs,
      cwd: seed.dir,
      env: seed.env,
      prepare: () => reg.reset(),
    });
    const skopeo = await timeEach(
      'skopeo copy',
      ['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${ref}`],
      { runs, cwd: benchRoot(), env: benchEnv(), prepare: () => reg.reset() },
    );
    fs.rmSync(layout, { recursive: true, force: true });
    const ratio = skopeo.median_s / cairn.median_s;
    log('');
    printTable([
      ['tool', 'median', 'min', 'max', 'MB/s', 'max RSS', 'vs skopeo'],
      ...[cairn, skopeo].map((r) => [
        r.label,
        fmtSec(r.median_s),
        fmtSec(r.min_s),
        fmtSec(r.max_s),
        mbps(bytes, r).toFixed(0),
        fmtBytes(r.max_rss_bytes),
        `${(skopeo.median_s / r.median_s).toFixed(2)}x`,
      ]),
    ]);
    log('');
    const targets = [
      target('cairn push throughput / skopeo copy throughput', ratio, '>=', goal, 'x'),
    ];
    printTargets(targets);
    writeResult(name, {
      loadBefore,
      data: { bytes },
      results: {
        cairn: { ...cairn, throughput_mb_per_s: mbps(bytes, cairn) },
        skopeo: { ...skopeo, throughput_mb_per_s: mbps(bytes, skopeo) },
      },
      ratios: { cairn_vs_skopeo_throughput: ratio },
      targets,
    });
  } finally {
    await reg.stop();
  }
}

async function pushNoop() {
  requireTools('/usr/bin/time', REGISTRY_BIN);
  const loadBefore = start('push-noop', BENCHES['push-noop'].description);
  const runs = runCount(10);
  const seed = seedLayers();
  const reg = await startBenchRegistry('push-noop');
  try {
    const ref = `${reg.host}/bench/layers:v1`;
    sh(cairnArgv('push', 'bench/layers:v1', ref, '-q'), { cwd: seed.dir, env: seed.env });
    const argv = cairnArgv('push', 'bench/layers:v1', ref, '-q');
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(timeOnce(argv, { cwd: seed.dir, env: seed.env }));
    const cairn = summarize('cairn push (no-op, 65 blobs present)', argv, samples);
    log(
      `  ${cairn.label}: median ${fmtSec(cairn.median_s)} (min ${fmtSec(cairn.min_s)}, max ${fmtSec(cairn.max_s)})`,
    );
    const help = summarize(
      'cairn --version (process start)',
      cairnArgv('--version'),
      Array.from({ length: runs }, () => timeOnce(cairnArgv('--version'), { cwd: seed.dir })),
    );
    log(`  ${help.label}: median ${fmtSec(help.median_s)}`);
    const targets = [target('no-op push of 64 layers', cairn.median_s, '<=', 0.3, 's')];
    printTargets(targets);
    writeResult('push-noop', {
      loadBefore,
      data: { blobs: 65 },
      results: { cairn, process_start: help },
      targets,
    });
  } finally {
    await reg.stop();
  }
}
