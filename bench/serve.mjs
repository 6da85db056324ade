// serve: `cairn serve` against its peers, all in one run (issue 10's targets):
// - serve-rest:  REST throughput at concurrency 64 vs a bare node:http + onnxruntime-node server
//                (bench/serve-bare.mjs) on the same model (>= 0.85x), and p99 at half of Cairn's
//                rate (<= 5 ms); the in-process ORT loop (no HTTP) is printed as the ceiling.
// - serve-batch: batching on (max 32, 2 ms) vs off at concurrency 64 (>= 2x), for the MLP and an
//                MNIST-sized MLP, with JSON and with Triton's binary tensor data; the bare peer
//                with and without its own batching shows what any node:http server gets.
// - serve-ready: `cairn serve REF` of a 10 MB ONNX ModelKit in the local store until its model
//                answers ready (<= 0.5 s), with the bare server's start on the same file.
// - serve-soak:  RSS over 2 minutes of wrk mixing valid and invalid requests (flat within 10%).
// Load comes from wrk (Debian) with bench/serve-oip.lua; models from bench/serve-models.py.
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
import {
  REPO_ROOT,
  benchEnv,
  benchRoot,
  cairnArgv,
  fmtSec,
  log,
  median,
  printTable,
  printTargets,
  requireTools,
  sh,
  start,
  target,
  writeResult,
} from './lib.mjs';

export const description =
  'cairn serve vs a bare node:http+ORT server: REST c64 (>=0.85x, p99<=5 ms at half rate), batching (>=2x), ready (<=0.5 s), 2-min soak RSS (<=10%)';

const LUA = path.join(REPO_ROOT, 'bench', 'serve-oip.lua');
const CONNECTIONS = 64;
const SECONDS = Number(process.env.CAIRN_BENCH_SERVE_SECONDS ?? 10);
/** serve-batch: alternated wrk rounds per server (each SECONDS / ROUNDS long) */
const ROUNDS = 5;

function scratch() {
  const dir = path.join(benchRoot(), 'serve');
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, 'mnist-mlp.onnx'))) {
    sh(['/usr/bin/python3', path.join(REPO_ROOT, 'bench', 'serve-models.py'), dir]);
  }
  return dir;
}

/** The request bodies' numbers: `count` fixed values in [0, 1). */
const values = (count) => Array.from({ length: count }, (_, i) => ((i * 37) % 101) / 101);

/** An OIP request body of `rows` rows of `width` floats, as a file for wrk. */
function body(dir, name, rows, width, extra = {}) {
  const file = path.join(dir, `${name}.json`);
  const data = values(rows * width);
  const doc = {
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, width], data }],
    ...extra,
  };
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

/**
 * The same request in Triton's binary tensor data extension (what its HTTP clients send with
 * `binary_data=True`): a JSON header naming `binary_data_size`, then the floats' bytes. Returns
 * `FILE@N` (N: the header's length) for bench/serve-oip.lua.
 */
function binaryBody(dir, name, rows, width) {
  const file = path.join(dir, `${name}.bin`);
  const floats = Float32Array.from(values(rows * width));
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [rows, width],
          parameters: { binary_data_size: floats.byteLength },
        },
      ],
    }),
  );
  fs.writeFileSync(file, Buffer.concat([header, Buffer.from(floats.buffer)]));
  return `${file}@${header.length}`;
}

/** Starts a server that prints `listening on http://HOST:PORT`; resolves once it did. */
async function startServer(argv, env = benchEnv()) {
  const t0 = performance.now();
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}\n${out}${err}`)));
  });
  return {
    url,
    pid: child.pid,
    listeningMs: performance.now() - t0,
    async stop() {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The status of a GET, or null when nothing answers. */
function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(null));
  });
}

async function waitReady(url, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await httpStatus(url)) === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${ms} ms`);
    await sleep(2);
  }
}

const UNIT = { us: 1e-3, ms: 1, s: 1e3 };

/** One wrk run; returns requests/s, latency percentiles (ms) and the count of non-2xx answers. */
function wrk(
  url,
  inferPath,
  bodies,
  { connections = CONNECTIONS, seconds = SECONDS, pauseMs = 0 } = {},
) {
  const r = spawnSync(
    'wrk',
    [
      `-t2`,
      `-c${connections}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      LUA,
      url,
      '--',
      inferPath,
      String(pauseMs),
      ...bodies,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const num = (re) => Number(re.exec(r.stdout)?.[1] ?? NaN);
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([0-9.]+)(us|ms|s)`).exec(r.stdout);
    return m ? Number(m[1]) * UNIT[m[2]] : NaN;
  };
  return {
    rps: num(/Requests\/sec:\s+([0-9.]+)/),
    requests: num(/(\d+) requests in/),
    p50_ms: pct(50),
    p99_ms: pct(99),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
    socket_errors: /Socket errors/.test(r.stdout) ? r.stdout.match(/Socket errors:.*/)[0] : null,
  };
}

/** Throughput of onnxruntime-node alone: session.run in a loop, batch 1, one caller. */
function inProcessLoop(model, seconds = 3) {
  const script = `
    import * as ort from 'onnxruntime-node';
    const s = await ort.InferenceSession.create(process.argv[1]);
    const x = new ort.Tensor('float32', new Float32Array(64).fill(0.5), [1, 64]);
    for (let i = 0; i < 200; i++) await s.run({ input: x });
    let n = 0; const end = performance.now() + ${seconds * 1000};
    while (performance.now() < end) { await s.run({ input: x }); n++; }
    console.log(n / ${seconds});`;
  const r = sh([process.execPath, '--input-type=module', '-e', script, model], { cwd: REPO_ROOT });
  return Number(r.stdout.trim());
}

/** CPU time a process (all its threads) has used so far, in ms (clock ticks of 10 ms). */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime
}

/** The run with the median throughput of several (with every sample's figures kept). */
function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return { ...sorted[Math.floor(sorted.length / 2)], samples: runs };
}

/** `wrk` against a started server, adding the server's CPU time per request in µs. */
function wrkWithCpu(server, ...args) {
  const before = cpuMs(server.pid);
  const run = wrk(server.url, ...args);
  return { ...run, cpu_us_per_request: ((cpuMs(server.pid) - before) * 1000) / run.requests };
}

function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

const serveArgv = (...args) => cairnArgv('serve', '--port', '0', ...args);
const bare = (model) => [process.execPath, path.join(REPO_ROOT, 'bench', 'serve-bare.mjs'), model];

async function rest(dir, targets, results) {
  const mlp = path.join(dir, 'mlp.onnx');
  const one = body(dir, 'mlp-1', 1, 64);
  const peer = await startServer(bare(mlp));
  const peerRun = wrk(peer.url, '/v2/models/mlp/infer', [one]);
  await peer.stop();
  const cairn = await startServer(serveArgv(`mlp=${mlp}`));
  const cairnRun = wrk(cairn.url, '/v2/models/mlp/infer', [one]);
  const rate = cairnRun.rps / 2;
  const pauseMs = Math.max(0, Math.round((CONNECTIONS * 1000) / rate - cairnRun.p50_ms));
  const half = wrk(cairn.url, '/v2/models/mlp/infer', [one], { pauseMs });
  await cairn.stop();
  const loop = inProcessLoop(mlp);
  results.rest = {
    bare: peerRun,
    cairn: cairnRun,
    half_rate: { target_rps: rate, ...half },
    ort_loop_rps: loop,
  };
  printTable([
    ['REST, MLP batch 1, c64', 'req/s', 'p50', 'p99', 'non-2xx'],
    [
      'bare node:http + ORT',
      peerRun.rps.toFixed(0),
      `${peerRun.p50_ms} ms`,
      `${peerRun.p99_ms} ms`,
      String(peerRun.non2xx),
    ],
    [
      'cairn serve',
      cairnRun.rps.toFixed(0),
      `${cairnRun.p50_ms} ms`,
      `${cairnRun.p99_ms} ms`,
      String(cairnRun.non2xx),
    ],
    [
      `cairn serve at ~${rate.toFixed(0)} req/s`,
      half.rps.toFixed(0),
      `${half.p50_ms} ms`,
      `${half.p99_ms} ms`,
      String(half.non2xx),
    ],
    ['ORT in-process loop (1 caller)', loop.toFixed(0), '-', '-', '-'],
  ]);
  targets.push(
    target('REST throughput vs bare server', cairnRun.rps / peerRun.rps, '>=', 0.85, 'x'),
  );
  targets.push(target('p99 at half rate', half.p99_ms, '<=', 5, ' ms'));
}

/**
 * Batching on vs off at c64, one row per request, for two MLPs: the bench's small one (64 wide,
 * where ONNX Runtime's fixed cost per run dominates) and an MNIST-sized one (784 -> 512 -> 512 ->
 * 10, where the per-row compute starts to count), with OIP JSON bodies and with Triton's binary
 * tensor data. The bare peer runs the JSON comparison with its own batching: what batching gives
 * any node:http server here, where HTTP and JSON stay per request.
 */
async function batch(dir, targets, results) {
  results.batch = {};
  const row = (name, r, base) => [
    name,
    r.rps.toFixed(0),
    `${r.p50_ms} ms`,
    `${r.p99_ms} ms`,
    `${r.cpu_us_per_request.toFixed(1)} µs`,
    base === undefined ? '-' : `${(r.rps / base.rps).toFixed(2)}x`,
  ];
  for (const [label, file, width] of [
    ['MLP 64-256-256-10', 'mlp.onnx', 64],
    ['MLP 784-512-512-10', 'mnist-mlp.onnx', 784],
  ]) {
    const model = path.join(dir, file);
    const name = path.basename(file, '.onnx');
    const json = body(dir, `${name}-1`, 1, width);
    const binary = binaryBody(dir, `${name}-1`, 1, width);
    const config = path.join(dir, `serve-batch-${width}.yaml`);
    fs.writeFileSync(
      config,
      `models:\n  mlp:\n    batching: {maxBatchSize: 32, maxLatencyMs: 2}\n    versions:\n      v1: ${model}\n`,
    );
    // The six servers run side by side and take turns under wrk, ROUNDS times each; medians
    // are reported, so a drift of this VM's speed during the run hits every column alike.
    const runs = [
      ['bare_off', bare(model), json],
      ['bare_on', [...bare(model), '--batch', '32'], json],
      ['off', serveArgv(`mlp=${model}`), json],
      ['on', serveArgv('--config', config), json],
      ['binary_off', serveArgv(`mlp=${model}`), binary],
      ['binary_on', serveArgv('--config', config), binary],
    ];
    const servers = [];
    for (const [, argv] of runs) servers.push(await startServer(argv));
    const samples = runs.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      runs.forEach(([, , requestBody], i) => {
        samples[i].push(
          wrkWithCpu(servers[i], '/v2/models/mlp/infer', [requestBody], {
            seconds: Math.max(2, Math.round(SECONDS / ROUNDS)),
          }),
        );
      });
    }
    for (const server of servers) await server.stop();
    const r = Object.fromEntries(runs.map(([key], i) => [key, medianRun(samples[i])]));
    results.batch[label] = r;
    printTable([
      [`${label}, batch 1, c64`, 'req/s', 'p50', 'p99', 'server CPU/req', 'vs off'],
      row('bare node:http + ORT, JSON', r.bare_off),
      row('bare, batching (32), JSON', r.bare_on, r.bare_off),
      row('cairn, batching off, JSON', r.off),
      row('cairn, batching on (32, 2 ms), JSON', r.on, r.off),
      row('cairn, batching off, binary', r.binary_off),
      row('cairn, batching on (32, 2 ms), binary', r.binary_on, r.binary_off),
    ]);
    targets.push(target(`batching, ${label}, JSON`, r.on.rps / r.off.rps, '>=', 2, 'x'));
    targets.push(
      target(`batching, ${label}, binary`, r.binary_on.rps / r.binary_off.rps, '>=', 2, 'x'),
    );
  }
}

async function ready(dir, targets, results) {
  const big = path.join(dir, 'big.onnx');
  const context = path.join(dir, 'big-kit');
  const env = { ...benchEnv(), CAIRN_HOME: path.join(dir, 'home') };
  if (!fs.existsSync(path.join(env.CAIRN_HOME, 'storage'))) {
    fs.mkdirSync(context, { recursive: true });
    fs.copyFileSync(big, path.join(context, 'big.onnx'));
    fs.writeFileSync(
      path.join(context, 'Kitfile'),
      'manifestVersion: "1.0"\npackage:\n  name: big\nmodel:\n  name: big\n  path: big.onnx\n',
    );
    sh(cairnArgv('pack', context, '-t', 'bench/big:v1', '-q'), { env });
  }
  const time = async (argv, readyPath) => {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const server = await startServer(argv, env);
      await waitReady(new URL(readyPath, server.url).href);
      samples.push((performance.now() - t0) / 1000);
      await server.stop();
    }
    return median(samples);
  };
  const cairn = await time(serveArgv('bench/big:v1'), '/v2/models/big/ready');
  const peer = await time(bare(big), '/');
  results.ready = { cairn_s: cairn, bare_s: peer, model_bytes: fs.statSync(big).size };
  printTable([
    ['10 MB ONNX: spawn to ready', 'median of 5'],
    ['cairn serve bench/big:v1 (local store)', fmtSec(cairn)],
    ['bare server on the .onnx file', fmtSec(peer)],
  ]);
  targets.push(target('serve ready, 10 MB ModelKit', cairn, '<=', 0.5, 's'));
}

async function soak(dir, targets, results) {
  const mlp = path.join(dir, 'mlp.onnx');
  const bodies = [
    body(dir, 'mlp-1', 1, 64),
    body(dir, 'mlp-8', 8, 64),
    body(dir, 'bad-shape', 1, 63),
  ];
  const bad = {
    truncated:
      '{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 64], "data": [0.1, 0.',
    datatype: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 64], data: new Array(64).fill(1) }],
    }),
    negative: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 64], data: [1] }],
    }),
    huge: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1e12, 64], data: [1] }],
    }),
    missing: JSON.stringify({ inputs: [] }),
  };
  for (const [name, text] of Object.entries(bad)) {
    const file = path.join(dir, `bad-${name}.json`);
    fs.writeFileSync(file, text);
    bodies.push(file);
  }
  const seconds = Number(process.env.CAIRN_BENCH_SOAK_SECONDS ?? 120);
  const server = await startServer(serveArgv(`mlp=${mlp}`));
  const samples = [];
  const sampler = setInterval(
    () => samples.push({ t: samples.length * 5, rss: rssBytes(server.pid) }),
    5000,
  );
  const run = await new Promise((resolve) => {
    // wrk in the background so the sampler keeps running
    const child = spawn('wrk', [
      '-t2',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '-s',
      LUA,
      server.url,
      '--',
      '/v2/models/mlp/infer',
      '0',
      ...bodies,
    ]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', () => resolve(out));
  });
  clearInterval(sampler);
  const alive = await httpStatus(new URL('/v2/health/live', server.url).href);
  await server.stop();
  const rss = samples.map((s) => s.rss);
  const early = median(rss.slice(2, 5));
  const late = median(rss.slice(-3));
  const growth = (late - early) / early;
  results.soak = {
    seconds,
    samples,
    early_rss: early,
    late_rss: late,
    growth,
    live_after: alive,
    wrk: run,
  };
  log(
    `soak: ${seconds} s, RSS ${(early / 2 ** 20).toFixed(1)} MiB after warm-up -> ${(late / 2 ** 20).toFixed(1)} MiB at the end (${(growth * 100).toFixed(1)}%), live after: ${alive}`,
  );
  log(
    run
      .split('\n')
      .filter((l) => /Requests\/sec|Non-2xx|Socket/.test(l))
      .join('\n'),
  );
  targets.push(target('soak RSS growth', Math.abs(growth) * 100, '<=', 10, '%'));
}

const PARTS = {
  'serve-rest': rest,
  'serve-batch': batch,
  'serve-ready': ready,
  'serve-soak': soak,
};

export async function run() {
  requireTools('wrk', '/usr/bin/python3');
  const only = new URL(import.meta.url).searchParams.get('name') ?? 'all';
  const loadBefore = start(`serve (${only})`, description);
  const dir = scratch();
  const targets = [];
  const results = {};
  for (const [name, part] of Object.entries(PARTS)) {
    if (only !== 'all' && only !== name) continue;
    log('');
    await part(dir, targets, results);
  }
  log('');
  printTargets(targets);
  writeResult(only === 'all' ? 'serve' : only, { loadBefore, results, targets });
}
