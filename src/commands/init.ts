/** `cairn init`: create `.cairn/` in a git repository (or anywhere, with --no-scm). */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CairnError } from '../core/errors.js';
import { CAIRN_DIR } from '../core/repo.js';
import type { CommandContext } from './context.js';

const execFileP = promisify(execFile);

export interface InitOptions {
  noScm: boolean;
  /** re-initialise an existing .cairn (keeps the cache) */
  force: boolean;
}

export interface InitResult {
  root: string;
  /** the cache.dir written to config, when one was chosen (an existing DVC cache) */
  cacheDir: string | undefined;
}

export async function init(ctx: CommandContext, options: InitOptions): Promise<InitResult> {
  let root = path.resolve(ctx.cwd);
  if (!options.noScm) {
    try {
      const { stdout } = await execFileP('git', ['rev-parse', '--show-toplevel'], { cwd: root });
      root = stdout.trim();
    } catch {
      throw new CairnError('not-a-git-repo', `${root} is not inside a git repository`, {
        hint: 'Run `git init` first, or `cairn init --no-scm` to use Cairn without git.',
      });
    }
  }
  const cairnDir = path.join(root, CAIRN_DIR);
  const configFile = path.join(cairnDir, 'config.yaml');
  if (fs.existsSync(configFile) && !options.force) {
    throw new CairnError('already-initialised', `${cairnDir} already exists`, {
      hint: 'Use `cairn init --force` to re-create its settings (the cache is kept).',
    });
  }
  await fsp.mkdir(path.join(cairnDir, 'cache'), { recursive: true });
  await fsp.mkdir(path.join(cairnDir, 'tmp'), { recursive: true });
  await fsp.writeFile(path.join(cairnDir, '.gitignore'), '/cache\n/tmp\n/config.local.yaml\n');
  // Sharing a DVC repository's cache lets dvc and cairn work side by side without copies.
  const dvcCache = path.join(root, '.dvc', 'cache');
  const cacheDir = fs.existsSync(path.join(root, '.dvc')) ? dvcCache : undefined;
  const lines = ['# Cairn repository settings; see `cairn config list`.'];
  if (options.noScm) lines.push('core:', '  no_scm: true');
  if (cacheDir !== undefined) lines.push('cache:', `  dir: ${path.relative(cairnDir, cacheDir)}`);
  await fsp.writeFile(configFile, `${lines.join('\n')}\n`);
  return { root, cacheDir };
}
