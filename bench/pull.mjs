// Registry pull: `cairn pull` of a ModelKit with one 1 GiB layer against `skopeo copy` of the
// same manifest to an OCI layout, from the same local registry (target: >= 2x skopeo), with
// `curl` writing the blob to a file as the floor. Run as `npm run bench -- pull-1gib`.
import fs from 'node:fs';
import path from 'node:path';
import {
  GIB,
  MIB,
  benchEnv,
  benchRoot,
  cairnArgv,
  ensureRandomFile,
  fmtBytes,
  fmtSec,
  log,
  printTable,
  printTargets,
  requireTools,
  runCount,
  sh,
  start,
  summarize,
  target,
  timeOnce,
  warmPageCache,
  which,
  writeResult,
} from './lib.mjs';
import { REGISTRY_BIN, SKOPEO_CACHE, startBenchRegistry } from './registry.mjs';

export const description =
  'cairn pull of a 1 GiB-layer ModelKit vs skopeo copy to an OCI layout (target >= 2x)';

export const KITFILE_1GIB =
  'manifestVersion: 1.0.0\npackage:\n  name: bench\nmodel:\n  path: big.bin\n';

/** A store holding `bench/big:v1` (one 1 GiB layer), packed once and reused. */
export function seedBig() {
  const { dir, file } = ensureRandomFile('pack-1gib', GIB, 'cairn-bench-pack-1gib');
  fs.writeFileSync(path.join(dir, 'Kitfile'), KITFILE_1GIB);
  const home = path.join(benchRoot(), 'registry-seed-big');
  const env = { ...benchEnv(), CAIRN_HOME: home, SOURCE_DATE_EPOCH: '1700000000' };
  const have = sh(cairnArgv('inspect', 'bench/big:v1', '-q'), { cwd: dir, env, allowFail: true });
  if (have.status !== 0) {
    log('packing bench/big:v1 ...');
    sh(cairnArgv('pack', '.', '-t', 'bench/big:v1', '-q'), { cwd: dir, env });
  }
  return { dir, file, home, env: { ...env, CAIRN_REGISTRY_PLAIN_HTTP: '1' } };
}

/** Times `argv` once per run, calling the async `prepare()` untimed before each. */
export async function timeEach(label, argv, { runs, cwd, env, prepare }) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    await prepare();
    sh(['sync']);
    const s = timeOnce(argv, { cwd, env });
    samples.push(s);
    log(
      `  ${label} run ${i + 1}/${runs}: ${fmtSec(s.wall_s)}  (max RSS ${fmtBytes(s.max_rss_bytes)})`,
    );
  }
  return summarize(label, argv, samples);
}

export const mbps = (bytes, r) => bytes / r.median_s / 1e6;

export async function run() {
  requireTools('/usr/bin/time', 'skopeo', REGISTRY_BIN);
  const loadBefore = start('pull-1gib', description);
  const runs = runCount(3);
  const seed = seedBig();
  const reg = await startBenchRegistry('pull-1gib');
  try {
    const ref = `${reg.host}/bench/big:v1`;
    sh(cairnArgv('push', 'bench/big:v1', ref, '-q'), { cwd: seed.dir, env: seed.env });
    const manifest = JSON.parse(
      sh(cairnArgv('inspect', 'bench/big:v1', '--json'), { cwd: seed.dir, env: seed.env }).stdout,
    ).manifest;
    const layer = manifest.layers[0];
    const hex = layer.digest.slice('sha256:'.length);
    warmPageCache(
      path.join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'),
    );
    const home = path.join(benchRoot(), 'pull-1gib-home');
    const env = { ...seed.env, CAIRN_HOME: home };
    const layout = path.join(benchRoot(), 'pull-1gib-layout');
    const curlOut = path.join(benchRoot(), 'pull-1gib-curl.bin');
    const cairn = await timeEach('cairn pull', cairnArgv('pull', ref, '-q'), {
      runs,
      cwd: benchRoot(),
      env,
      prepare: async () => fs.rmSync(home, { recursive: true, force: true }),
    });
    const skopeo = await timeEach(
      'skopeo copy',
      ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:v1`],
      {
        runs,
        cwd: benchRoot(),
        env: benchEnv(),
        prepare: async () => {
          fs.rmSync(layout, { recursive: true, force: true });
          fs.rmSync(SKOPEO_CACHE, { force: true });
        },
      },
    );
    const floor =
      which('curl') === null
        ? undefined
        : await timeEach(
            'curl -o file (floor)',
            [
              'curl',
              '-sf',
              '-o',
              curlOut,
              `http://${ref.split('/')[0]}/v2/bench/big/blobs/${layer.digest}`,
            ],
            {
              runs,
              cwd: benchRoot(),
              env: benchEnv(),
              prepare: async () => fs.rmSync(curlOut, { force: true }),
            },
          );
    for (const p of [home, layout, curlOut]) fs.rmSync(p, { recursive: true, force: true });
    const bytes = layer.size;
    const ratio = skopeo.median_s / cairn.median_s;
    log('');
    printTable([
      ['tool', 'median', 'min', 'max', 'MB/s', 'max RSS', 'vs skopeo'],
      ...[cairn, skopeo, ...(floor === undefined ? [] : [floor])].map((r) => [
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
    const targets = [target('cairn pull throughput / skopeo copy throughput', ratio, '>=', 2, 'x')];
    printTargets(targets);
    writeResult('pull-1gib', {
      loadBefore,
      data: { layer_bytes: bytes, layer_mib: bytes / MIB },
      results: {
        cairn: { ...cairn, throughput_mb_per_s: mbps(bytes, cairn) },
        skopeo: { ...skopeo, throughput_mb_per_s: mbps(bytes, skopeo) },
        ...(floor === undefined
          ? {}
          : { curl_floor: { ...floor, throughput_mb_per_s: mbps(bytes, floor) } }),
      },
      ratios: { cairn_vs_skopeo_throughput: ratio },
      targets,
    });
  } finally {
    await reg.stop();
  }
}
