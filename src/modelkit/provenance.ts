/**
 * Cairn's provenance annotations on a ModelKit manifest (`dev.cairn.*`): the git commit the
 * context was packed from, whether the work tree was dirty, and the digests of dvc.lock and
 * params.yaml — the links a lineage walk follows from a served digest back to its inputs.
 */
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from '../core/errors.js';
import { sha256Of } from '../oci/digest.js';

const run = promisify(execFile);

export const ANNOTATION_GIT_COMMIT = 'dev.cairn.git.commit';
export const ANNOTATION_GIT_DIRTY = 'dev.cairn.git.dirty';
export const ANNOTATION_DVC_LOCK = 'dev.cairn.dvc.lock.digest';
export const ANNOTATION_PARAMS = 'dev.cairn.params.digest';

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function digestOfFirst(files: string[]): Promise<string | undefined> {
  for (const f of files) {
    try {
      return sha256Of(await fsp.readFile(f));
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  return undefined;
}

/**
 * Whether git could find a repository from `dir`: a `.git` in it or above, or git told where
 * one is through the environment. Saves spawning git (tens of ms) for a context outside git.
 */
async function mayBeInGit(dir: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.GIT_DIR !== undefined || env.GIT_WORK_TREE !== undefined) return true;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      await fsp.lstat(path.join(d, '.git'));
      return true;
    } catch {
      // not here: try the parent
    }
    if (path.dirname(d) === d) return false;
  }
}

/**
 * Annotations for a pack of `contextDir`; values that cannot be found are left out. `env` is
 * the caller's environment, whose GIT_DIR or GIT_WORK_TREE may point git at a repository
 * elsewhere.
 */
export async function provenanceAnnotations(
  contextDir: string,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const top = (await mayBeInGit(contextDir, env))
    ? await git(contextDir, ['rev-parse', '--show-toplevel'])
    : undefined;
  const dirs = [contextDir];
  if (top !== undefined && top !== '' && path.resolve(top) !== path.resolve(contextDir))
    dirs.push(top);
  if (top !== undefined && top !== '') {
    const commit = await git(contextDir, ['rev-parse', '--verify', '-q', 'HEAD']);
    if (commit !== undefined && /^[0-9a-f]{40,64}$/.test(commit)) {
      out[ANNOTATION_GIT_COMMIT] = commit;
      // Read-only: a plain status refreshes the index under .git/index.lock, which would race
      // with a layer that packs .git (provenance runs while the layers are written).
      const status = await git(contextDir, [
        '--no-optional-locks',
        'status',
        '--porcelain',
        '--untracked-files=no',
      ]);
      if (status !== undefined) out[ANNOTATION_GIT_DIRTY] = status === '' ? 'false' : 'true';
    }
  }
  const lock = await digestOfFirst(dirs.map((d) => path.join(d, 'dvc.lock')));
  if (lock !== undefined) out[ANNOTATION_DVC_LOCK] = lock;
  const params = await digestOfFirst(dirs.map((d) => path.join(d, 'params.yaml')));
  if (params !== undefined) out[ANNOTATION_PARAMS] = params;
  return out;
}
