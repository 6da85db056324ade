/** Keeps tracked data out of git: `/name` lines in the .gitignore beside each output, as DVC does. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, readFileOrUndefined } from '../core/fs.js';

function entryFor(out: string): string {
  return `/${path.basename(out)}`;
}

/** Returns true when the .gitignore changed. */
export async function ignoreInGit(out: string): Promise<boolean> {
  const file = path.join(path.dirname(out), '.gitignore');
  const current = (await readFileOrUndefined(file)) ?? '';
  const entry = entryFor(out);
  if (current.split(/\r?\n/).includes(entry)) return false;
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  await writeFileAtomic(file, `${current}${sep}${entry}\n`);
  return true;
}

export async function unignoreInGit(out: string): Promise<void> {
  const file = path.join(path.dirname(out), '.gitignore');
  const current = await readFileOrUndefined(file);
  if (current === undefined) return;
  const entry = entryFor(out);
  const kept = current.split('\n').filter((line) => line.replace(/\r$/, '') !== entry);
  const text = kept.join('\n');
  if (text.trim() === '') await fsp.rm(file, { force: true });
  else if (text !== current) await writeFileAtomic(file, text);
}
