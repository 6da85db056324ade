/** Shared by the transfer tests: ModelKit sources, isolated CLI environments, JSON runs. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { HAVE_BUILD, cairn, listFiles, tempDir, writeTree } from '../modelkit/helpers.js';
import { HAVE_REGISTRY } from './harness.js';

const run = promisify(execFile);
export const HAVE_SKOPEO = fs.existsSync('/usr/bin/skopeo');
/** Runs unless docker-registry, skopeo or the build is missing; CAIRN_REQUIRE_TOOLS=1 always runs. */
export const enabled =
  (HAVE_REGISTRY && HAVE_SKOPEO && HAVE_BUILD) || process.env.CAIRN_REQUIRE_TOOLS === '1';

export const sha256 = (b: Buffer): string =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A ModelKit source dir: a model file of `size` seeded bytes, a dataset and docs. */
export function kitDir(root: string, size: number, seed = 1): string {
  const dir = path.join(root, `src-${seed}`);
  const model = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4)
    model.writeUInt32LE((Math.imul(i, 2654435761) + seed) >>> 0, i);
  writeTree(dir, {
    Kitfile:
      'manifestVersion: 1.0.0\npackage:\n  name: roundtrip\n  authors: [cairn]\nmodel:\n  path: model.bin\ndatasets:\n  - name: train\n    path: data\ndocs:\n  - path: README.md\n',
    'model.bin': model,
    'data/a.csv': 'x,y\n1,2\n',
    'data/b.csv': 'x,y\n3,4\n',
    'README.md': `# roundtrip ${seed}\n`,
  });
  return dir;
}

export interface Env {
  work: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

export function freshEnv(): Env {
  const work = tempDir('cairn-reg-');
  return { work, home: path.join(work, 'home'), env: { CAIRN_REGISTRY_PLAIN_HTTP: '1' } };
}

export async function cli(e: Env, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return cairn(args, { cwd: e.work, home: e.home, env: { ...e.env, ...extra } });
}

export async function cliJson<T>(
  e: Env,
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): Promise<T> {
  const r = await cli(e, [...args, '--json'], extra);
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface Transfer {
  reference: string;
  digest: string;
  manifest: string;
  blobs: {
    digest: string;
    size: number;
    action: string;
    resumedFrom: number;
    transferred: number;
  }[];
}

export const skopeo = (...args: string[]) =>
  run('/usr/bin/skopeo', args, { maxBuffer: 64 * 1024 * 1024 });

/** Every file under `dir` with its bytes' digest. */
export function treeDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listFiles(dir)) out[f] = sha256(fs.readFileSync(path.join(dir, f)));
  return out;
}
