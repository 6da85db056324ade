/**
 * The folder `cairn render k8s` owns: replaced whole, through a temp sibling and renames, so an
 * applier polling git or the disk never sees half a render, and a removed model's file goes.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';

/** The first line of every rendered file; a folder whose kustomization has it is ours. */
export const HEADER = '# Rendered by `cairn render k8s`';

/** One rendered file: a path relative to the output folder and its YAML text. */
export interface RenderedFile {
  readonly path: string;
  readonly text: string;
}

/**
 * Replaces `dir` with exactly `files`. Refuses a folder that holds something other than an
 * earlier render. Temp siblings that a killed render left behind are removed first.
 */
export async function writeRendered(dir: string, files: readonly RenderedFile[]): Promise<void> {
  const target = path.resolve(dir);
  await refuseForeignFolder(dir, target);
  await fsp.mkdir(path.dirname(target), { recursive: true });
  await removeAbandoned(target);
  const sibling = (kind: string) =>
    path.join(
      path.dirname(target),
      `.${path.basename(target)}.${String(process.pid)}.${randomBytes(4).toString('hex')}.${kind}`,
    );
  const temp = sibling('tmp');
  const old = sibling('old');
  try {
    await fsp.mkdir(temp);
    for (const file of files) {
      if (path.isAbsolute(file.path) || file.path.split(/[\\/]/).includes('..')) {
        throw new Error(`Internal error: rendered path ${file.path} leaves the folder`);
      }
      await fsp.mkdir(path.dirname(path.join(temp, file.path)), { recursive: true });
      await fsp.writeFile(path.join(temp, file.path), file.text, { flag: 'wx' });
    }
    const existed = await renameIfExists(target, old);
    try {
      await fsp.rename(temp, target);
    } catch (error) {
      if (existed) await fsp.rename(old, target);
      throw error;
    }
    if (existed) await fsp.rm(old, { recursive: true, force: true });
  } finally {
    await fsp.rm(temp, { recursive: true, force: true });
  }
}

async function refuseForeignFolder(dir: string, target: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(target);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    if (errnoCode(error) === 'ENOTDIR') {
      throw new CairnError('render-target-invalid', `${dir} exists and is not a folder`, {
        hint: 'Render into a folder of its own, e.g. -o deploy/prod.',
      });
    }
    throw error;
  }
  if (entries.length === 0) return;
  const kustomization = await fsp
    .readFile(path.join(target, 'kustomization.yaml'), 'utf8')
    .catch(() => '');
  if (!kustomization.startsWith(HEADER)) {
    throw new CairnError(
      'render-target-invalid',
      `${dir} holds files that \`cairn render k8s\` did not write`,
      { hint: 'Render into a folder of its own (it is replaced whole), e.g. -o deploy/prod.' },
    );
  }
}

/** Removes `.<name>.<pid>.<hex>.{tmp,old}` siblings whose process is gone. */
async function removeAbandoned(target: string): Promise<void> {
  const base = path.basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${base}\\.(\\d+)\\.[0-9a-f]{8}\\.(tmp|old)$`);
  for (const name of await fsp.readdir(path.dirname(target))) {
    const pid = pattern.exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) {
      await fsp.rm(path.join(path.dirname(target), name), { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/** Renames `from` to `to`; answers false if `from` did not exist. */
async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await fsp.rename(from, to);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
