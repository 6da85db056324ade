/**
 * The world the `cairn agent` end-to-end tests and `bench/agent.mjs` run in, all real and on
 * loopback: Debian's `docker-registry` holding ModelKits of examples/sklearn trained with
 * different splits and regularisation (so their ONNX bytes and answers differ), a `process`
 * ModelKit in a healthy and a flaky (every second request a 500) variant, bare git repositories
 * served over smart HTTP by `git http-backend`, a developer checkout whose `cairn deploy --push`
 * lands there, and the agent itself started from bin/cairn.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT, createSandbox, type Sandbox } from '../e2e/helpers.js';
import { REGISTRY_BIN, answers, startRegistry, type RunningRegistry } from '../registry/harness.js';
import { startGitHttp, type GitHttpServer } from './git-http.js';

export const PYTHON = '/usr/bin/python3';
const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'sklearn');

/** Why the end-to-end world cannot be built here, or undefined when it can. */
export function missingTools(): string | undefined {
  if (!fs.existsSync(REGISTRY_BIN)) return `${REGISTRY_BIN} is not installed`;
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, onnx, joblib'], {
    encoding: 'utf8',
  });
  if (r.error !== undefined || r.status !== 0) return `${PYTHON} lacks scikit-learn or onnx`;
  return undefined;
}

// ---------------------------------------------------------------- trained models, cached

/** One training run of examples/sklearn: the split's seed and the regularisation. */
export interface Variant {
  readonly splitSeed: number;
  readonly C: number;
}

export const CHURN_VARIANTS: readonly Variant[] = [
  { splitSeed: 20240607, C: 1.0 },
  { splitSeed: 7, C: 0.05 },
  { splitSeed: 11, C: 0.01 },
];

/** A key that changes whenever the example's training code or data does. */
function exampleKey(variants: readonly Variant[]): string {
  const h = createHash('sha256');
  for (const f of ['src/prepare.py', 'src/train.py', 'src/features.py', 'src/export_onnx.py']) {
    h.update(fs.readFileSync(path.join(EXAMPLE, f)));
  }
  h.update(fs.readFileSync(path.join(EXAMPLE, 'data', 'churn.csv')));
  h.update(JSON.stringify(variants));
  return h.digest('hex').slice(0, 16);
}

function python(args: readonly string[]): void {
  // No __pycache__ in the checkout's examples/sklearn/src.
  const r = spawnSync(PYTHON, args, {
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${r.stderr}`);
}

/**
 * The ONNX files of `variants`, trained once per machine and cached under the temp folder by a
 * key of the example's sources (each ~3 s of scikit-learn; the tests and benchmarks reuse them).
 */
export async function trainedModels(
  variants: readonly Variant[] = CHURN_VARIANTS,
): Promise<string[]> {
  const cache = path.join(os.tmpdir(), `cairn-e2e-models-${exampleKey(variants)}`);
  const files = variants.map((_, i) => path.join(cache, `churn-${String(i)}.onnx`));
  if (files.every((f) => fs.existsSync(f))) return files;
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-e2e-train-'));
  try {
    for (const [i, v] of variants.entries()) {
      const prepared = path.join(work, `prepared-${String(i)}`);
      const model = path.join(work, `model-${String(i)}`);
      python([
        path.join(EXAMPLE, 'src', 'prepare.py'),
        path.join(EXAMPLE, 'data', 'churn.csv'),
        prepared,
        '--seed',
        String(v.splitSeed),
        '--test_size',
        '0.25',
      ]);
      python([
        path.join(EXAMPLE, 'src', 'train.py'),
        path.join(prepared, 'train.csv'),
        model,
        '--C',
        String(v.C),
        '--max_iter',
        '1000',
        '--seed',
        '42',
      ]);
      await fsp.copyFile(
        path.join(model, 'model.onnx'),
        path.join(work, `churn-${String(i)}.onnx`),
      );
    }
    await fsp.mkdir(cache, { recursive: true });
    // Each file lands whole (rename), so a concurrent reader never sees half of one.
    for (const [i, f] of files.entries()) {
      await fsp.rename(path.join(work, `churn-${String(i)}.onnx`), f);
    }
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
  const bytes = new Set(
    files.map((f) => createHash('sha256').update(fs.readFileSync(f)).digest('hex')),
  );
  if (bytes.size !== files.length)
    throw new Error('Internal error: two variants trained the same model');
  return files;
}

// ---------------------------------------------------------------- the process model

/** The OIP model name the process ModelKits serve. */
export const SCORER = 'scorer';

/**
 * test/deploy/scorer.py, an OIP REST server for the `process` runtime (model `scorer`,
 * Y = 2·X), with `FAIL_EVERY` set: 2 makes every second inference a 500, the candidate a canary
 * must catch.
 */
function scorerScript(failEvery: number): string {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'deploy', 'scorer.py'), 'utf8');
  if (!text.includes('\nFAIL_EVERY = 0\n'))
    throw new Error('Internal error: scorer.py lost FAIL_EVERY');
  return text.replace('\nFAIL_EVERY = 0\n', `\nFAIL_EVERY = ${String(failEvery)}\n`);
}

/**
 * The environment's `command` for the scorer. `cairn serve`'s process runtime sets
 * CAIRN_MODEL_SOURCE to the version's source: an unpacked folder, the model file, or (as the
 * agent writes worker configs) the ModelKit reference, which the command unpacks itself with
 * this checkout's `cairn` (the registry settings come from the worker's environment).
 */
export const SCORER_COMMAND = [
  'S="$CAIRN_MODEL_SOURCE"',
  `if [ ! -e "$S" ]; then D="scorer-$CAIRN_MODEL_VERSION"; ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(PROJECT_ROOT, 'bin', 'cairn'))} unpack "$S" -d "$D" --overwrite >&2 || exit 1; S="$D"; fi`,
  'if [ -d "$S" ]; then S="$S/scorer.py"; fi',
  'exec /usr/bin/python3 "$S"',
].join('; ');

// ---------------------------------------------------------------- ModelKits in the registry

export interface Kit {
  /** `127.0.0.1:PORT/acme/churn:v1` */
  readonly tag: string;
  /** `sha256:…` of the manifest */
  readonly digest: string;
  /** `127.0.0.1:PORT/acme/churn@sha256:…`, as an environment declares it */
  readonly pinned: string;
  /** the worker's version label: the first 12 hex of the digest */
  readonly version: string;
}

async function packAndPush(
  sb: Sandbox,
  registry: RunningRegistry,
  repository: string,
  tag: string,
  files: Record<string, string | Buffer>,
  kitfile: string,
): Promise<Kit> {
  const dir = sb.path(`kits/${repository.replace(/\//g, '-')}-${tag}`);
  await fsp.mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await fsp.writeFile(path.join(dir, name), content);
  }
  await fsp.writeFile(path.join(dir, 'Kitfile'), kitfile);
  const ref = `${registry.host}/${repository}:${tag}`;
  const packed = await sb.cairnOk(['pack', dir, '-t', ref, '--json']);
  const digest = /sha256:[0-9a-f]{64}/.exec(packed.stdout)?.[0];
  if (digest === undefined) throw new Error(`no digest in ${packed.stdout}`);
  await sb.cairnOk(['push', ref], { env: { CAIRN_REGISTRY_PLAIN_HTTP: '1' } });
  return {
    tag: ref,
    digest,
    pinned: `${registry.host}/${repository}@${digest}`,
    version: digest.slice('sha256:'.length, 'sha256:'.length + 12),
  };
}

export interface Kits {
  /** three churn classifiers (ONNX) that answer differently */
  readonly churn: readonly Kit[];
  /** the process scorer that answers every request */
  readonly scorer: Kit;
  /** the same scorer failing every second request with a 500 */
  readonly flakyScorer: Kit;
}

/** Packs and pushes every fixture ModelKit into `registry` (from a builder sandbox). */
export async function pushKits(sb: Sandbox, registry: RunningRegistry): Promise<Kits> {
  const onnx = await trainedModels();
  const churn: Kit[] = [];
  for (const [i, file] of onnx.entries()) {
    churn.push(
      await packAndPush(
        sb,
        registry,
        'acme/churn',
        `v${String(i + 1)}`,
        { 'model.onnx': await fsp.readFile(file) },
        [
          'manifestVersion: 1.0.0',
          'package:',
          '  name: churn',
          `  description: examples/sklearn, split seed ${String(CHURN_VARIANTS[i]?.splitSeed)}, C ${String(CHURN_VARIANTS[i]?.C)}`,
          'model:',
          '  name: churn',
          '  path: model.onnx',
          '  framework: onnx',
          '',
        ].join('\n'),
      ),
    );
  }
  const scorerKit = (tag: string, failEvery: number) =>
    packAndPush(
      sb,
      registry,
      'acme/scorer',
      tag,
      { 'scorer.py': scorerScript(failEvery) },
      [
        'manifestVersion: 1.0.0',
        'package:',
        `  name: ${SCORER}`,
        '  description: an OIP REST server run by the process runtime (see the environment command)',
        'model:',
        `  name: ${SCORER}`,
        '  path: scorer.py',
        '  framework: python',
        '',
      ].join('\n'),
    );
  return {
    churn,
    scorer: await scorerKit('ok', 0),
    flakyScorer: await scorerKit('flaky', 2),
  };
}

/** Starts the registry again on its old port and storage after `stop()` (the config is kept). */
export async function restartRegistry(registry: RunningRegistry): Promise<() => Promise<void>> {
  const log = fs.openSync(path.join(registry.dir, 'registry.log'), 'a');
  const child = spawn(REGISTRY_BIN, ['serve', path.join(registry.dir, 'config.yml')], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  for (let i = 0; i < 500; i++) {
    if (await answers(registry.port)) {
      return async () => {
        child.kill('SIGTERM');
        await exited;
      };
    }
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not come back on ${registry.host}`);
}

// ---------------------------------------------------------------- environments in git

/** A bare repository served over smart HTTP, with a developer checkout that pushes to it. */
export interface EnvRepo {
  /** where the agent follows it: `http://127.0.0.1:PORT/<name>.git` */
  readonly url: string;
  readonly bare: string;
  /** a checkout whose `origin` is the bare repository (by path), branch main tracking it */
  readonly checkout: Sandbox;
  /** writes `environments/<env>.yaml`, commits and pushes; returns the commit */
  write(env: string, text: string, message?: string): Promise<string>;
  /** `cairn deploy ENV REF --push` (plus `extra`) in the checkout; returns the commit */
  deploy(env: string, ref: string, extra?: readonly string[]): Promise<string>;
  /** `cairn rollback ENV --push`; returns the commit */
  rollback(env: string): Promise<string>;
  head(): Promise<string>;
}

export async function createEnvRepo(
  git: GitHttpServer,
  gitRoot: string,
  name: string,
): Promise<EnvRepo> {
  const bare = path.join(gitRoot, `${name}.git`);
  const checkout = await createSandbox({ init: false });
  try {
    await checkout.exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    await checkout.git(['commit', '--allow-empty', '-qm', 'environments live here']);
    await checkout.git(['remote', 'add', 'origin', bare]);
    await checkout.git(['push', '-q', '-u', 'origin', 'main']);
  } catch (error) {
    await checkout[Symbol.asyncDispose]();
    throw error;
  }
  const head = async () => (await checkout.git(['rev-parse', 'HEAD'])).trim();
  const plain = { env: { CAIRN_REGISTRY_PLAIN_HTTP: '1' } };
  return {
    url: `${git.url}/${name}.git`,
    bare,
    checkout,
    head,
    write: async (env, text, message) => {
      await fsp.mkdir(checkout.path('environments'), { recursive: true });
      await fsp.writeFile(checkout.path(`environments/${env}.yaml`), text);
      await checkout.git(['add', `environments/${env}.yaml`]);
      await checkout.git(['commit', '-qm', message ?? `edit(${env}) by hand`]);
      await checkout.git(['push', '-q', 'origin', 'main']);
      return head();
    },
    deploy: async (env, ref, extra = []) => {
      await checkout.cairnOk(['deploy', env, ref, '--push', ...extra], plain);
      return head();
    },
    rollback: async (env) => {
      await checkout.cairnOk(['rollback', env, '--push']);
      return head();
    },
  };
}

/** The text of an environment declaring `models` (each a YAML block for one model, indented). */
export function environmentText(env: string, models: Record<string, readonly string[]>): string {
  return [
    'apiVersion: cairn.dev/v1alpha1',
    'kind: Environment',
    'metadata:',
    `  name: ${env}`,
    'spec:',
    '  models:',
    ...Object.entries(models).flatMap(([name, lines]) => [
      `    ${name}:`,
      ...lines.map((l) => `      ${l}`),
    ]),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- the whole world

export interface World extends AsyncDisposable {
  readonly registry: RunningRegistry;
  readonly git: GitHttpServer;
  readonly kits: Kits;
  /** a sandbox for agents, their state and `cairn status` */
  readonly host: Sandbox;
  /** a fresh environments repository served over HTTP */
  repo(name: string): Promise<EnvRepo>;
}

/** Registry, git server, ModelKits pushed; dispose stops everything it started. */
export async function createWorld(): Promise<World> {
  const disposers: (() => Promise<void>)[] = [];
  try {
    const registry = await startRegistry();
    disposers.push(async () => {
      await registry.stop();
      await fsp.rm(registry.dir, { recursive: true, force: true });
    });
    const gitRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-e2e-git-'));
    disposers.push(() => fsp.rm(gitRoot, { recursive: true, force: true }));
    const git = await startGitHttp(gitRoot);
    disposers.push(async () => {
      await git.close();
    });
    const builder = await createSandbox({ init: false });
    disposers.push(async () => {
      await builder[Symbol.asyncDispose]();
    });
    const kits = await pushKits(builder, registry);
    const host = await createSandbox({ init: false });
    disposers.push(async () => {
      await host[Symbol.asyncDispose]();
    });
    const repos: EnvRepo[] = [];
    disposers.push(async () => {
      for (const r of repos) await r.checkout[Symbol.asyncDispose]();
    });
    return {
      registry,
      git,
      kits,
      host,
      repo: async (name) => {
        const r = await createEnvRepo(git, gitRoot, name);
        repos.push(r);
        return r;
      },
      [Symbol.asyncDispose]: async () => {
        for (const d of disposers.reverse()) await d();
      },
    };
  } catch (error) {
    for (const d of disposers.reverse()) await d().catch(() => undefined);
    throw error;
  }
}
