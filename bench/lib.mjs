// Shared helpers for the benchmarks in bench/: data generation (seeded), scratch dirs,
// timing, machine info, table printing and the JSON written to bench/out/<name>.json.
//
// Nothing here is part of `npm test`; run the benchmarks with `npm run bench -- <name>`.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CAIRN_BIN = path.join(REPO_ROOT, 'bin', 'cairn');
export const OUT_DIR = path.join(REPO_ROOT, 'bench', 'out');
export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;

const log = (...args) => {
  process.stdout.write(`${args.join(' ')}\n`);
};
export { log };

// ---------------------------------------------------------------------------------------------
// Settings from the environment

/** Root of all benchmark data and scratch repos: $CAIRN_BENCH_DIR or /tmp/cairn-bench. */
export function benchRoot() {
  const root = process.env.CAIRN_BENCH_DIR ?? path.join(os.tmpdir(), 'cairn-bench');
  fs.mkdirSync(root, { recursive: true });
  return root;
}

/** Number of timed runs: $CAIRN_BENCH_RUNS, else `fallback`. */
export function runCount(fallback = 5, envName = 'CAIRN_BENCH_RUNS') {
  const raw = process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const n = Number.parseInt(raw, 10);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${envName} must be a positive integer`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Tools

const APT = {
  md5sum: 'coreutils',
  openssl: 'openssl',
  git: 'git',
  'git-lfs': 'git-lfs',
  hyperfine: 'hyperfine',
  '/usr/bin/time': 'time',
  python3: 'python3',
};

/** Absolute path of `tool`, or null. */
export function which(tool) {
  if (tool.startsWith('/')) return fs.existsSync(tool) ? tool : null;
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found !== '' ? found : null;
}

/** Exit with a clear message when a required tool is missing. */
export function requireTools(...tools) {
  const missing = tools.filter((t) => which(t) === null);
  if (missing.length === 0) return;
  for (const t of missing) {
    log(`error: '${t}' is not installed; install it with: apt-get install ${APT[t] ?? t}`);
  }
  process.exit(2);
}

/** First line of `cmd --version`-like output, or null. */
function versionOf(cmd, args = ['--version']) {
  if (which(cmd) === null) return null;
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`.trim();
  return text.split('\n')[0] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Environment for the commands under test

let isolatedEnv;

/**
 * The environment every timed command runs in: the user's git and Cairn config are hidden
 * (XDG_CONFIG_HOME and GIT_CONFIG_GLOBAL point at an empty scratch dir, no system git config).
 */
export function benchEnv() {
  if (isolatedEnv !== undefined) return isolatedEnv;
  const home = path.join(benchRoot(), 'env');
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(path.join(home, 'xdg'), { recursive: true });
  const gitconfig = path.join(home, 'gitconfig');
  fs.writeFileSync(
    gitconfig,
    '[user]\n\tname = Cairn Bench\n\temail = bench@example.invalid\n[init]\n\tdefaultBranch = main\n',
  );
  isolatedEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(home, 'xdg'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    NO_COLOR: '1',
    // ONNX Runtime's telemetry off for the bare peers too, as `cairn serve` turns it off.
    ORT_DISABLE_TELEMETRY: '1',
  };
  return isolatedEnv;
}

/** argv for running the cairn CLI from this checkout. */
export function cairnArgv(...args) {
  return [process.execPath, CAIRN_BIN, ...args];
}

// ---------------------------------------------------------------------------------------------
// Running and timing

/** Run a command untimed; throw with its output when it fails. */
export function sh(argv, { cwd, env = benchEnv(), allowFail = false } = {}) {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * MIB });
  if (r.error) throw r.error;
  if (r.status !== 0 && !allowFail) {
    throw new Error(
      `command failed (exit ${r.status}): ${argv.join(' ')}\n  in ${cwd}\n${r.stdout}${r.stderr}`,
    );
  }
  return r;
}

/**
 * Run `argv` once under GNU time (`/usr/bin/time -v`) and return wall seconds (measured
 * here with a monotonic clock), user/sys CPU seconds and peak RSS in bytes. Throws on failure.
 */
export function timeOnce(argv, { cwd, env = benchEnv() } = {}) {
  const report = path.join(benchRoot(), `time-${process.pid}.txt`);
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', '-o', report, ...argv], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 256 * MIB,
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(
      `command failed (exit ${r.status}): ${argv.join(' ')}\n  in ${cwd}\n${r.stdout}${r.stderr}`,
    );
  }
  const text = fs.readFileSync(report, 'utf8');
  fs.rmSync(report, { force: true });
  const field = (label) => {
    const m = new RegExp(`${label}: *([0-9.]+)`).exec(text);
    return m ? Number(m[1]) : null;
  };
  const rssKb = field('Maximum resident set size \\(kbytes\\)');
  return {
    wall_s: wall,
    user_s: field('User time \\(seconds\\)'),
    sys_s: field('System time \\(seconds\\)'),
    max_rss_bytes: rssKb === null ? null : rssKb * 1024,
  };
}

/**
 * Time `argv` `runs` times. `prepare()` (untimed) runs before each run, e.g. to make a fresh
 * repo. Prints one line per run and returns the summary with every sample.
 */
export function timeRuns(label, argv, { runs, cwd, prepare, env } = {}) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    if (prepare) prepare();
    const s = timeOnce(argv, { cwd, env });
    samples.push(s);
    log(
      `  ${label} run ${i + 1}/${runs}: ${fmtSec(s.wall_s)}` +
        `  (user ${fmtSec(s.user_s)}, sys ${fmtSec(s.sys_s)}, max RSS ${fmtBytes(s.max_rss_bytes)})`,
    );
  }
  return summarize(label, argv, samples);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Summary of timing samples: median (the figure compared), min, max, medians of CPU and RSS. */
export function summarize(label, argv, samples) {
  const wall = samples.map((s) => s.wall_s);
  const pick = (k) => {
    const xs = samples.map((s) => s[k]).filter((x) => x !== null && x !== undefined);
    return xs.length === 0 ? null : median(xs);
  };
  return {
    label,
    command: argv.map((a) => (a === process.execPath ? 'node' : a)).join(' '),
    runs: samples.length,
    median_s: median(wall),
    min_s: Math.min(...wall),
    max_s: Math.max(...wall),
    user_s: pick('user_s'),
    sys_s: pick('sys_s'),
    // CPU seconds (user + sys): much less sensitive to other load than wall time
    cpu_s: (() => {
      const xs = samples
        .filter((s) => s.user_s !== null && s.user_s !== undefined && s.sys_s !== null)
        .map((s) => s.user_s + s.sys_s);
      return xs.length === 0 ? null : median(xs);
    })(),
    max_rss_bytes: samples.reduce((m, s) => Math.max(m, s.max_rss_bytes ?? 0), 0) || null,
    samples,
  };
}

// ---------------------------------------------------------------------------------------------
// Scratch repos

let trashed = 0;

/**
 * Move `p` (if it exists) into <bench root>/trash instead of deleting it: deleting a GiB on
 * this ext4 (mounted with `discard`) makes the host trim those blocks while the next timed
 * run writes, which bills it seconds that are not its own. Nothing is deleted here: see
 * emptyTrash().
 */
export function setAside(p) {
  if (!fs.existsSync(p)) return;
  const trash = path.join(benchRoot(), 'trash');
  fs.mkdirSync(trash, { recursive: true });
  const dest = path.join(trash, `${process.pid}-${Date.now()}-${trashed++}-${path.basename(p)}`);
  fs.renameSync(p, dest);
}

/**
 * Move everything in `dir` except the entries named in `keep` (the benchmark data) aside
 * (setAside), then `sync` so writeback left over from the previous run does not land in the
 * next timed run.
 */
export function clearExcept(dir, keep) {
  for (const name of fs.readdirSync(dir)) {
    if (!keep.includes(name)) setAside(path.join(dir, name));
  }
  spawnSync('sync');
}

/**
 * Delete what setAside() and clearExcept() set aside. On ext4 without a journal (this machine's root) the
 * inode allocator skips every inode freed in the last 30 s (`recently_deleted()`), reading
 * its inode table block each time: creating 70,000 files right after deleting 70,000 costs
 * seconds to minutes of kernel time. So scratch trees are deleted only between benchmarks,
 * and with `settle` we then wait 35 s before the next one starts.
 */
export function emptyTrash({ settle = true } = {}) {
  const trash = path.join(benchRoot(), 'trash');
  if (!fs.existsSync(trash) || fs.readdirSync(trash).length === 0) return;
  log('deleting scratch repos from earlier runs ...');
  // rm(1) is much faster than fs.rmSync on trees of a million files.
  sh(['rm', '-rf', '--', trash], { cwd: benchRoot() });
  spawnSync('sync');
  if (settle && fsJournal(benchRoot()) === 'none') {
    log('waiting 35 s: ext4 without a journal slows file creation for 30 s after deletions');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 35_000);
  }
}

/** Make `dir` a fresh git + Cairn repo around the data entries in `keep`. */
export function freshCairnRepo(dir, keep) {
  clearExcept(dir, keep);
  sh(['git', 'init', '-q'], { cwd: dir });
  sh(cairnArgv('init', '-q'), { cwd: dir });
}

/** Make `dir` a fresh git repo with git-lfs hooks and filters installed (locally). */
export function freshLfsRepo(dir, keep) {
  clearExcept(dir, keep);
  sh(['git', 'init', '-q'], { cwd: dir });
  sh(['git', 'lfs', 'install', '--local'], { cwd: dir });
}

/** Read every file under `p` once so the page cache is warm (returns bytes read). */
export function warmPageCache(p) {
  let bytes = 0;
  const buf = Buffer.allocUnsafe(4 * MIB);
  const visit = (q) => {
    const st = fs.lstatSync(q);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(q)) visit(path.join(q, name));
    } else if (st.isFile()) {
      const fd = fs.openSync(q, 'r');
      try {
        let n;
        while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) bytes += n;
      } finally {
        fs.closeSync(fd);
      }
    }
  };
  visit(p);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Seeded data

/**
 * Deterministic pseudo-random stream: the AES-256-CTR keystream under sha256(seed). Fast
 * (GB/s) so it can fill large files, and identical for a given seed on every machine.
 */
export class Prng {
  #cipher;
  #pool = Buffer.alloc(0);
  #pos = 0;

  constructor(seed) {
    const key = crypto.createHash('sha256').update(String(seed)).digest();
    this.#cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** `n` fresh pseudo-random bytes. */
  bytes(n) {
    return this.#cipher.update(Buffer.alloc(n));
  }

  /** Uniform 32-bit unsigned integer. */
  uint32() {
    if (this.#pos + 4 > this.#pool.length) {
      this.#pool = this.bytes(64 * 1024);
      this.#pos = 0;
    }
    const v = this.#pool.readUInt32LE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** Integer in [lo, hi], both inclusive. */
  int(lo, hi) {
    return lo + (this.uint32() % (hi - lo + 1));
  }
}

/**
 * Returns true when `marker` exists and records the same `params`: the data was made by a
 * completed earlier run and can be reused.
 */
export function haveData(marker, params) {
  try {
    return fs.readFileSync(marker, 'utf8') === JSON.stringify(params);
  } catch {
    return false;
  }
}

export function markData(marker, params) {
  fs.writeFileSync(marker, JSON.stringify(params));
}

/** Write `size` seeded pseudo-random bytes to `file` (16 MiB at a time). */
export function writeRandomFile(file, size, seed) {
  const prng = new Prng(seed);
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = 16 * MIB;
    for (let done = 0; done < size; done += chunk) {
      fs.writeSync(fd, prng.bytes(Math.min(chunk, size - done)));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `$CAIRN_BENCH_DIR/<name>/big.bin`: `size` seeded random bytes, made once and reused while
 * its marker matches. Returns { dir, file }.
 */
export function ensureRandomFile(name, size, seed) {
  const dir = path.join(benchRoot(), name);
  const marker = path.join(benchRoot(), `${name}.ready`);
  const params = { size, seed, version: 1 };
  const file = path.join(dir, 'big.bin');
  if (!haveData(marker, params)) {
    log(`making ${file} (${size} bytes, seeded) ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    writeRandomFile(file, size, seed);
    markData(marker, params);
  } else {
    log(`reusing ${file}`);
  }
  return { dir, file };
}

/**
 * Write an MNIST-shaped tree under `root`: `${root}/{train,test}/{0..9}/NNNNN.png`, `train`
 * and `test` files each, every file `minSize`..`maxSize` seeded random bytes. The label
 * (digit dir) of each file comes from the same PRNG. Returns { files, bytes }.
 */
export function writeMnistTree(root, { train, test, minSize, maxSize, seed }) {
  const prng = new Prng(seed);
  let files = 0;
  let bytes = 0;
  for (const [split, count] of [
    ['train', train],
    ['test', test],
  ]) {
    for (let d = 0; d < 10; d++)
      fs.mkdirSync(path.join(root, split, String(d)), { recursive: true });
    for (let i = 0; i < count; i++) {
      const label = prng.int(0, 9);
      const size = prng.int(minSize, maxSize);
      const name = `${String(i).padStart(5, '0')}.png`;
      fs.writeFileSync(path.join(root, split, String(label), name), prng.bytes(size));
      files++;
      bytes += size;
    }
  }
  return { files, bytes };
}

// Worker source for writeFlatTreeParallel (CommonJS eval worker: no module resolution needed).
const TREE_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { root, from, to, filesPerDir, size, seed } = workerData;
const w = String(filesPerDir - 1).length;
for (let d = from; d < to; d++) {
  const key = crypto.createHash('sha256').update(seed + ':' + d).digest();
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const data = cipher.update(Buffer.alloc(filesPerDir * size));
  const dir = path.join(root, 'd' + String(d).padStart(4, '0'));
  fs.mkdirSync(dir, { recursive: true });
  for (let f = 0; f < filesPerDir; f++) {
    fs.writeFileSync(path.join(dir, 'f' + String(f).padStart(w, '0')), data.subarray(f * size, (f + 1) * size));
  }
  parentPort.postMessage(1);
}
`;

/**
 * Write `dirs` × `filesPerDir` files of `size` seeded random bytes under `root` as
 * dNNNN/fNNN, with one worker thread per core. Content depends only on the seed.
 */
export async function writeFlatTreeParallel(root, { dirs, filesPerDir, size, seed }) {
  fs.mkdirSync(root, { recursive: true });
  const workers = Math.max(1, Math.min(os.availableParallelism(), dirs));
  const per = Math.ceil(dirs / workers);
  let doneDirs = 0;
  let lastPrint = 0;
  const jobs = [];
  for (let i = 0; i < workers; i++) {
    const from = i * per;
    const to = Math.min(dirs, from + per);
    if (from >= to) continue;
    jobs.push(
      new Promise((resolve, reject) => {
        const w = new Worker(TREE_WORKER, {
          eval: true,
          workerData: { root, from, to, filesPerDir, size, seed: String(seed) },
        });
        w.on('message', () => {
          doneDirs++;
          const now = Date.now();
          if (now - lastPrint > 5000) {
            lastPrint = now;
            log(`  ... ${doneDirs}/${dirs} dirs written`);
          }
        });
        w.on('error', reject);
        w.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`tree worker exit ${code}`)),
        );
      }),
    );
  }
  await Promise.all(jobs);
}

// ---------------------------------------------------------------------------------------------
// Machine and provenance

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1].trim() : (os.cpus()[0]?.model ?? null);
  } catch {
    return os.cpus()[0]?.model ?? null;
  }
}

/** For ext4: 'none' when the filesystem holding `p` has no journal, 'present', or null. */
export function fsJournal(p) {
  const r = spawnSync('df', ['--output=source', p], { encoding: 'utf8' });
  const dev = r.status === 0 ? r.stdout.trim().split('\n')[1]?.trim() : undefined;
  if (dev === undefined || !dev.startsWith('/dev/')) return null;
  try {
    const task = fs.readFileSync(`/sys/fs/ext4/${path.basename(dev)}/journal_task`, 'utf8');
    return task.trim() === '<none>' ? 'none' : 'present';
  } catch {
    return null;
  }
}

function fsType(p) {
  const r = spawnSync('df', ['--output=fstype', p], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.trim().split('\n')[1]?.trim() ?? null) : null;
}

function cairnRevision() {
  const rev = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  let distBuiltAt = null;
  try {
    distBuiltAt = fs.statSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js')).mtime.toISOString();
  } catch {
    // not built
  }
  return {
    commit: rev.status === 0 ? rev.stdout.trim() : null,
    src_dirty: dirty.status === 0 ? dirty.stdout.trim() !== '' : null,
    dist_built_at: distBuiltAt,
  };
}

/** What the figures were measured on, for the JSON. */
export function machineInfo() {
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' });
  return {
    nproc: nproc.status === 0 ? Number(nproc.stdout.trim()) : os.availableParallelism(),
    memory_bytes: os.totalmem(),
    cpu_model: cpuModel(),
    kernel: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    filesystem: { path: benchRoot(), type: fsType(benchRoot()), journal: fsJournal(benchRoot()) },
    node: process.version,
    versions: {
      cairn: versionOf(process.execPath, [CAIRN_BIN, '--version']),
      git: versionOf('git'),
      'git-lfs': versionOf('git-lfs', ['version']),
      md5sum: versionOf('md5sum'),
      openssl: versionOf('openssl', ['version']),
      hyperfine: versionOf('hyperfine'),
      python3: versionOf('python3'),
    },
    cairn_source: cairnRevision(),
  };
}

/** Load average now, with a flag when the machine looks busy (numbers then noisy). */
export function loadNow() {
  const [one, five, fifteen] = os.loadavg();
  const cores = os.availableParallelism();
  return { one, five, fifteen, cores, busy: one > 0.5 * cores };
}

// ---------------------------------------------------------------------------------------------
// Output

export function fmtSec(s) {
  if (s === null || s === undefined) return '-';
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`;
}

export function fmtBytes(b) {
  if (b === null || b === undefined) return '-';
  if (b >= GIB) return `${(b / GIB).toFixed(2)} GiB`;
  if (b >= MIB) return `${(b / MIB).toFixed(1)} MiB`;
  return `${(b / 1024).toFixed(1)} KiB`;
}

/** Print an aligned text table. `rows` are arrays of strings; the first is the header. */
export function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r) => r.map((cell, c) => String(cell ?? '').padEnd(widths[c])).join('  ');
  log(line(rows[0]));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) log(line(r));
}

/**
 * A target check: `value` compared with `goal` by `op` ('<=' or '>='). `unit` is for display.
 */
export function target(name, value, op, goal, unit = '') {
  const pass = op === '<=' ? value <= goal : value >= goal;
  return { name, value, op, goal, unit, pass };
}

function fmtTargetValue(v, unit) {
  if (unit === 's') return fmtSec(v);
  if (unit === 'bytes') return fmtBytes(v);
  return `${Number(v.toFixed(2))}${unit}`;
}

export function printTargets(targets) {
  printTable([
    ['target', 'measured', 'goal', 'result'],
    ...targets.map((t) => [
      t.name,
      fmtTargetValue(t.value, t.unit),
      `${t.op} ${fmtTargetValue(t.goal, t.unit)}`,
      t.pass ? 'PASS' : 'MISS',
    ]),
  ]);
}

/**
 * Write bench/out/<name>.json with the machine, load before/after and the benchmark's own
 * results; print where it went.
 */
export function writeResult(name, { loadBefore, ...result }) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const loadAfter = loadNow();
  const doc = {
    benchmark: name,
    tag: process.env.CAIRN_BENCH_TAG ?? null,
    date: new Date().toISOString(),
    page_cache: 'warm (data read once before the timed runs; timed runs are not cache-dropped)',
    statistic: 'median of the timed runs',
    load: { before: loadBefore, after: loadAfter },
    preliminary: Boolean(loadBefore?.busy || loadAfter.busy),
    machine: machineInfo(),
    ...result,
  };
  // CAIRN_BENCH_TAG=tmpfs writes bench/out/<name>.tmpfs.json, keeping a variant's figures apart.
  const tag = process.env.CAIRN_BENCH_TAG;
  const file = path.join(OUT_DIR, tag ? `${name}.${tag}.json` : `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  log('');
  log(
    `load average before ${loadBefore.one.toFixed(2)}, after ${loadAfter.one.toFixed(2)}` +
      ` (${loadAfter.cores} cores)${doc.preliminary ? ': machine busy, figures are PRELIMINARY' : ''}`,
  );
  log(`wrote ${path.relative(process.cwd(), file) || file}`);
  return doc;
}

/** Banner printed at the start of each benchmark; returns the load average then. */
export function start(name, description) {
  const load = loadNow();
  log(`== ${name}: ${description}`);
  log(
    `   load average ${load.one.toFixed(2)} ${load.five.toFixed(2)} ${load.fifteen.toFixed(2)}` +
      ` on ${load.cores} cores${load.busy ? ' (BUSY: figures will be noisy)' : ''}`,
  );
  return load;
}

// ---------------------------------------------------------------------------------------------
// Shared data sets

export const MNIST = { train: 60000, test: 10000, minSize: 250, maxSize: 350, seed: 'mnist-1' };

/**
 * The MNIST-like tree (70,000 files of 250..350 bytes), made once under
 * <bench root>/mnist/mnist and reused while its marker matches. Returns the repo dir that
 * holds it and the entries to keep when that dir is reset.
 */
export function ensureMnist() {
  holdLock('mnist', 'the mnist data set');
  const dir = path.join(benchRoot(), 'mnist');
  const marker = path.join(benchRoot(), 'mnist.ready');
  const params = { ...MNIST, version: 1 };
  if (!haveData(marker, params)) {
    log(`making ${path.join(dir, 'mnist')} (70,000 files of 250-350 seeded random bytes) ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const made = writeMnistTree(path.join(dir, 'mnist'), MNIST);
    log(`  ${made.files} files, ${made.bytes} bytes`);
    markData(marker, params);
  } else {
    log(`reusing ${path.join(dir, 'mnist')}`);
  }
  return { dir, keep: ['mnist'] };
}

// ---------------------------------------------------------------------------------------------
// One benchmark at a time

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const held = new Set();

/**
 * Take the lock `name` (a file under the bench root holding our pid), waiting while another
 * live process holds it; a lock left by a dead process is taken over. Released at exit.
 * bench/run.mjs takes 'run' so two `npm run bench` never time each other's load, and the
 * shared data sets take their own name so a direct caller cannot reset them mid-run.
 * CAIRN_BENCH_NO_LOCK=1 skips it.
 */
export function holdLock(name, what = name) {
  if (process.env.CAIRN_BENCH_NO_LOCK === '1' || held.has(name)) return;
  const file = path.join(benchRoot(), `${name}.lock`);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let waitedSince = null;
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid} ${what}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let owner = '';
    try {
      owner = fs.readFileSync(file, 'utf8').trim();
    } catch {
      continue; // released between our two calls
    }
    const pid = Number.parseInt(owner, 10);
    if (!Number.isInteger(pid) || !pidAlive(pid)) {
      fs.rmSync(file, { force: true }); // stale: its process is gone
      continue;
    }
    const now = Date.now();
    if (waitedSince === null || now - waitedSince > 60_000) {
      if (waitedSince === null) waitedSince = now;
      log(`waiting for ${file} (held by pid ${owner}); CAIRN_BENCH_NO_LOCK=1 skips this`);
      waitedSince = now;
    }
    Atomics.wait(sleeper, 0, 0, 1000);
  }
  held.add(name);
  if (held.size === 1) {
    process.on('exit', () => {
      for (const n of held) fs.rmSync(path.join(benchRoot(), `${n}.lock`), { force: true });
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(sig, () => process.exit(130));
    }
  }
}
