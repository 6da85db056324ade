/** Locating a Cairn repository and the paths and settings every command works from. */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from './config.js';
import { directIoAllowed } from './direct-io.js';
import { CairnError } from './errors.js';

export const CAIRN_DIR = '.cairn';

export interface Repo {
  /** absolute path of the workspace root (the folder holding `.cairn/`) */
  readonly root: string;
  readonly cairnDir: string;
  /** scratch space: locks, the stat index, logs */
  readonly tmpDir: string;
  readonly config: Config;
  /** large files may be written past the page cache (CAIRN_DIRECT_IO=0 says no) */
  readonly directIo: boolean;
}

/** Walks up from `cwd` to the nearest folder that holds `.cairn/`. */
export function findRoot(cwd: string): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    if (fs.existsSync(path.join(dir, CAIRN_DIR, 'config.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function openRepo(cwd: string, env: NodeJS.ProcessEnv): Promise<Repo> {
  const root = findRoot(cwd);
  if (root === undefined) {
    throw new CairnError('not-a-repo', `${path.resolve(cwd)} is not inside a Cairn repository`, {
      hint: 'Run `cairn init` at the root of your git repository first.',
    });
  }
  const cairnDir = path.join(root, CAIRN_DIR);
  const { config } = await loadConfig(cairnDir, { env, cwd });
  return {
    root,
    cairnDir,
    tmpDir: path.join(cairnDir, 'tmp'),
    config,
    directIo: directIoAllowed(env),
  };
}

/** The lock that serialises commands writing the workspace and cache of one repository. */
export function repoLockPath(repo: Repo): string {
  return path.join(repo.tmpDir, 'lock');
}
