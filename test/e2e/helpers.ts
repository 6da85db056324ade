/**
 * Harness for scenario tests: temp git repositories, the built `cairn` CLI run as a real child
 * process with an isolated environment, deterministic file trees, and tree snapshots for
 * before/after comparisons. Nothing here builds: `npm test` runs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The CLI under test; E2E_CAIRN_BIN points the scenarios at another build. */
export const CAIRN_BIN = process.env.E2E_CAIRN_BIN ?? path.join(PROJECT_ROOT, 'bin', 'cairn');

const BUILT_ENTRY = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
if (process.env.E2E_CAIRN_BIN === undefined && !fs.existsSync(BUILT_ENTRY)) {
  throw new Error(
    `${BUILT_ENTRY} is missing: the e2e tests drive the built CLI. Run \`npm run build\` first (\`npm test\` does it for you).`,
  );
}

/** True when running as root, which can read files whatever their mode. */
export const IS_ROOT = process.getuid?.() === 0;

/** An unprivileged identity for tests that need permission checks to bite (see {@link RunOptions.user}). */
export const NOBODY = { uid: 65534, gid: 65534 } as const;

export interface RunResult {
  /** exit code, or null when killed by a signal */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall-clock ms from spawn to exit */
  ms: number;
}

export interface RunOptions {
  /** defaults to the repository root */
  cwd?: string;
  /** run as this user (root only): permission checks apply to them */
  user?: { uid: number; gid: number };
  /** extra variables on top of the isolated environment */
  env?: NodeJS.ProcessEnv;
  /** ms before the child is killed and the run fails; default 120 s */
  timeoutMs?: number;
}

/** A `cairn` child started in its own process group, for kill and concurrency tests. */
export interface Spawned {
  readonly pid: number;
  readonly child: ChildProcess;
  /** everything printed so far */
  stdout(): string;
  stderr(): string;
  /** resolves when the process has exited and its pipes are drained */
  readonly exited: Promise<RunResult>;
  /** signals the whole process group (the CLI and any git it started) */
  kill(signal: NodeJS.Signals): void;
}

/** A temp folder holding a workspace (`root`) and a private home; removed on dispose. */
export interface Sandbox extends AsyncDisposable {
  /** the temp folder that holds everything below */
  readonly dir: string;
  /** the workspace (a git repository unless created with `git: false`) */
  readonly root: string;
  /** the environment every child gets: no CAIRN_* or GIT_* from the parent */
  readonly env: NodeJS.ProcessEnv;
  /** absolute path of a workspace-relative POSIX path */
  path(rel: string): string;
  cairn(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** like {@link cairn} but throws, with the output, unless it exits 0 */
  cairnOk(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  spawnCairn(args: readonly string[], options?: RunOptions): Spawned;
  /** runs git in the workspace; throws unless it exits 0; returns stdout */
  git(args: readonly string[]): Promise<string>;
  /** any child process, in the sandbox's environment */
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** hands the whole sandbox to another user, so commands run as them can write it */
  chownTo(user: { uid: number; gid: number }): Promise<void>;
}

export interface SandboxOptions {
  /** `git init` the workspace with a local identity; default true */
  git?: boolean;
  /** `cairn init` it; default true (implies nothing about git: pass `--no-scm` yourself) */
  init?: boolean;
}

/** Builds the isolated environment: the parent's minus CAIRN_*, GIT_* and NODE_OPTIONS. */
function isolatedEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('CAIRN_') || k.startsWith('GIT_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  env.HOME = path.join(dir, 'home');
  env.XDG_CONFIG_HOME = path.join(dir, 'home', '.config');
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_CEILING_DIRECTORIES = dir; // git never finds a repository above the sandbox
  env.GIT_CONFIG_GLOBAL = path.join(dir, 'home', '.gitconfig');
  env.LC_ALL = 'C';
  return env;
}

function startChild(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  options: RunOptions,
  detached: boolean,
): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd ?? cwd,
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
    ...(options.user ?? {}),
  });
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  return {
    pid,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      try {
        process.kill(detached ? -pid : pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
  };
}

async function withTimeout(s: Spawned, what: string, timeoutMs: number): Promise<RunResult> {
  const timer = setTimeout(() => {
    s.kill('SIGKILL');
  }, timeoutMs);
  try {
    const result = await s.exited;
    if (result.signal === 'SIGKILL' && result.ms >= timeoutMs) {
      throw new Error(
        `${what} did not finish within ${timeoutMs} ms\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

export function describeRun(args: readonly string[], r: RunResult): string {
  return `cairn ${args.join(' ')} → code ${String(r.code)}${r.signal === null ? '' : ` (${r.signal})`}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-e2e-'));
  const root = path.join(dir, 'repo');
  await fsp.mkdir(root);
  await fsp.mkdir(path.join(dir, 'home', '.config'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'home', '.gitconfig'), '');
  const env = isolatedEnv(dir);
  const children = new Set<Spawned>();

  const track = (s: Spawned): Spawned => {
    children.add(s);
    void s.exited.finally(() => children.delete(s)).catch(() => undefined);
    return s;
  };
  const exec = (command: string, args: readonly string[], o: RunOptions = {}) =>
    withTimeout(
      track(startChild(command, args, root, env, o, false)),
      `${command} ${args.join(' ')}`,
      o.timeoutMs ?? 120_000,
    );
  const cairn = (args: readonly string[], o: RunOptions = {}) =>
    exec(process.execPath, [CAIRN_BIN, ...args], o);

  const sandbox: Sandbox = {
    dir,
    root,
    env,
    path: (rel) => path.join(root, ...rel.split('/')),
    cairn,
    cairnOk: async (args, o) => {
      const r = await cairn(args, o);
      if (r.code !== 0) throw new Error(`expected success: ${describeRun(args, r)}`);
      return r;
    },
    spawnCairn: (args, o = {}) =>
      track(startChild(process.execPath, [CAIRN_BIN, ...args], root, env, o, true)),
    git: async (args) => {
      const r = await exec('git', args);
      if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed:\n${r.stderr}`);
      return r.stdout;
    },
    exec,
    chownTo: async (user) => {
      const r = await exec('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
      if (r.code !== 0) throw new Error(`chown failed: ${r.stderr}`);
      await fsp.chmod(dir, 0o755);
    },
    [Symbol.asyncDispose]: async () => {
      for (const s of children) s.kill('SIGKILL');
      await Promise.allSettled([...children].map((s) => s.exited));
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };

  try {
    if (options.git !== false) {
      await sandbox.git(['init', '-q', '-b', 'main']);
      await sandbox.git(['config', 'user.name', 'Cairn E2E']);
      await sandbox.git(['config', 'user.email', 'e2e@cairn.invalid']);
      await sandbox.git(['config', 'commit.gpgsign', 'false']);
    }
    if (options.init !== false) {
      await sandbox.cairnOk(options.git === false ? ['init', '--no-scm'] : ['init']);
    }
  } catch (error) {
    await sandbox[Symbol.asyncDispose]();
    throw error;
  }
  return sandbox;
}

// ---------------------------------------------------------------- deterministic content

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` pseudo-random bytes that depend only on `seed`. */
export function deterministicBytes(bytes: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, bytes);
}

/** A file tree: POSIX relative path → content. */
export type Tree = Record<string, string | Buffer>;

/** `count` small text files spread over sub-folders, each distinct and a few bytes to ~1 KiB. */
export function smallFiles(count: number, prefix = ''): Tree {
  const tree: Tree = {};
  for (let i = 0; i < count; i++) {
    const dir = `${prefix}d${String(i % 20).padStart(2, '0')}`;
    tree[`${dir}/f${String(i).padStart(5, '0')}.txt`] =
      `${prefix}file ${i}\n${'abcdefghij'.repeat(i % 97)}\n`;
  }
  return tree;
}

export async function writeTree(root: string, tree: Tree): Promise<void> {
  const dirs = new Set(Object.keys(tree).map((rel) => path.dirname(path.join(root, rel))));
  for (const d of dirs) await fsp.mkdir(d, { recursive: true });
  await Promise.all(
    Object.entries(tree).map(([rel, content]) => fsp.writeFile(path.join(root, rel), content)),
  );
}

export function md5(bytes: string | Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

// ---------------------------------------------------------------- DVC formats, independently

/** The `.dir` hash DVC gives a tree: md5 of `json.dumps(sorted entries, sort_keys=True)` (ASCII names). */
export function dirMd5(tree: Tree): string {
  const entries = Object.keys(tree)
    .sort()
    .map((rel) => `{"md5": "${md5(tree[rel] ?? '')}", "relpath": "${rel}"}`);
  return `${md5(`[${entries.join(', ')}]`)}.dir`;
}

export function treeSize(tree: Tree): number {
  return Object.values(tree).reduce((n, c) => n + Buffer.byteLength(c), 0);
}

/** The `.dvc` text `dvc add <dir>` writes (DVC 3). */
export function dvcTextForDir(outPath: string, tree: Tree): string {
  return [
    'outs:',
    `- md5: ${dirMd5(tree)}`,
    `  size: ${treeSize(tree)}`,
    `  nfiles: ${Object.keys(tree).length}`,
    '  hash: md5',
    `  path: ${outPath}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- looking at disk

export interface SnapshotOptions {
  /** POSIX prefixes (relative to the root) left out; `.git` is always left out */
  exclude?: readonly string[];
}

/**
 * Every entry under `root` as `rel → description` (kind, permission bits, md5 or link target),
 * sorted by path: equal snapshots mean nothing a user could see changed.
 */
export function snapshot(root: string, options: SnapshotOptions = {}): Record<string, string> {
  const exclude = ['.git', ...(options.exclude ?? [])];
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = rel === '' ? root : path.join(root, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (exclude.some((e) => childRel === e || childRel.startsWith(`${e}/`))) continue;
      const childAbs = path.join(abs, name);
      const st = fs.lstatSync(childAbs);
      const perm = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[childRel] = `link -> ${fs.readlinkSync(childAbs)}`;
      else if (st.isDirectory()) {
        out[childRel] = 'dir';
        walk(childRel);
      } else if (st.isFile()) {
        // read as root would: a file chmod 000 for a test still has content
        out[childRel] = `file ${perm} ${md5(fs.readFileSync(childAbs))}`;
      } else out[childRel] = `special ${perm}`;
    }
  };
  walk('');
  return out;
}

/** md5 of each regular file under `dir` (following nothing), keyed by POSIX relative path. */
export function fileDigests(dir: string): Record<string, string> {
  // Synchronous on purpose: thousands of tiny reads are several times faster without the
  // thread-pool round trip, and the test has nothing else to do meanwhile.
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : path.join(dir, rel);
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(childRel);
      else out[childRel] = e.isFile() ? md5(fs.readFileSync(path.join(abs, e.name))) : 'not a file';
    }
  };
  walk('');
  return out;
}

export function digestsOf(tree: Tree): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).map(([rel, c]) => [rel, md5(c)]));
}

export interface CacheObject {
  /** the object's name: 32 hex digits, plus `.dir` for manifests */
  name: string;
  path: string;
  mode: number;
}

/** Objects in a DVC 3 cache (`files/md5/xx/…`); temp and quarantine folders are not objects. */
export function cacheObjects(cacheDir: string): CacheObject[] {
  const base = path.join(cacheDir, 'files', 'md5');
  const found: CacheObject[] = [];
  if (!fs.existsSync(base)) return found;
  for (const prefix of fs.readdirSync(base).sort()) {
    for (const name of fs.readdirSync(path.join(base, prefix)).sort()) {
      const p = path.join(base, prefix, name);
      found.push({ name: `${prefix}${name}`, path: p, mode: fs.statSync(p).mode & 0o7777 });
    }
  }
  return found;
}

/** Objects whose bytes do not hash to their name: torn or corrupt. Empty means a sound cache. */
export function badCacheObjects(cacheDir: string): string[] {
  const bad: string[] = [];
  for (const o of cacheObjects(cacheDir)) {
    const actual = md5(fs.readFileSync(o.path));
    if (actual !== o.name.replace(/\.dir$/, ''))
      bad.push(`${o.name} (content hashes to ${actual})`);
  }
  return bad;
}

/** Polls until `check` returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
