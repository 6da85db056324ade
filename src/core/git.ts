/** The few git plumbing calls Cairn needs: list revisions and read files at a revision. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CairnError } from './errors.js';

const execFileP = promisify(execFile);

/** Runs git in `cwd` and returns its stdout; a failure is a `git-failed` CairnError. */
export async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP('git', args, { cwd, maxBuffer: 1024 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    throw new CairnError(
      'git-failed',
      `git ${args.join(' ')} failed in ${cwd}: ${(error as Error).message.split('\n')[0] ?? ''}`,
      {
        hint: 'Check that this is a git repository with at least one commit.',
        cause: error,
      },
    );
  }
}

export interface RevisionSelection {
  allBranches: boolean;
  allTags: boolean;
  allCommits: boolean;
}

/** Commit ids for the selected revisions (deduplicated). */
export async function listRevisions(cwd: string, sel: RevisionSelection): Promise<string[]> {
  const revs = new Set<string>();
  const add = (text: string): void => {
    for (const line of text.split('\n')) if (line.trim() !== '') revs.add(line.trim());
  };
  if (sel.allCommits) add(await git(cwd, ['rev-list', '--all']));
  if (sel.allBranches)
    add(await git(cwd, ['for-each-ref', '--format=%(objectname)', 'refs/heads']));
  if (sel.allTags)
    add(
      await git(cwd, ['for-each-ref', '--format=%(*objectname)%(objectname)', 'refs/tags']).then(
        (t) =>
          t
            .split('\n')
            .map((l) => l.slice(0, 40))
            .join('\n'),
      ),
    );
  return [...revs];
}

/** Blob ids of files whose names match `accept`, at one commit. */
export async function listBlobs(
  cwd: string,
  commit: string,
  accept: (path: string) => boolean,
): Promise<{ path: string; blob: string }[]> {
  const out = await git(cwd, ['ls-tree', '-r', '-z', '--full-tree', commit]);
  const found: { path: string; blob: string }[] = [];
  for (const record of out.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [, type, blob] = record.slice(0, tab).split(' ');
    const path = record.slice(tab + 1);
    if (type === 'blob' && blob !== undefined && accept(path)) found.push({ path, blob });
  }
  return found;
}

/** Reads many blobs through one `git cat-file --batch` process. */
export async function readBlobs(
  cwd: string,
  blobs: readonly string[],
): Promise<Map<string, Buffer>> {
  const result = new Map<string, Buffer>();
  if (blobs.length === 0) return result;
  const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stdin.end(`${blobs.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new CairnError('git-failed', `git cat-file exited with ${code ?? 'a signal'} in ${cwd}`),
        );
    });
  });
  const all = Buffer.concat(chunks);
  let pos = 0;
  for (const id of blobs) {
    const nl = all.indexOf(0x0a, pos);
    const header = all.subarray(pos, nl).toString();
    const size = Number(header.split(' ')[2]);
    pos = nl + 1;
    if (header.endsWith('missing') || !Number.isFinite(size)) continue;
    result.set(id, all.subarray(pos, pos + size));
    pos += size + 1;
  }
  return result;
}

const metaListings = new Map<string, string[] | undefined>();

/**
 * Absolute paths of the `.dvc` and `dvc.yaml` files git tracks or would add in `root`, from
 * one `git ls-files` per process (git skips ignored data folders, which a walk would not).
 * Undefined when `root` is not a git work tree.
 */
export function gitMetaFiles(root: string): string[] | undefined {
  if (metaListings.has(root)) return metaListings.get(root);
  let listing: string[] | undefined;
  try {
    const out = execFileSync(
      'git',
      [
        'ls-files',
        '-z',
        '--cached',
        '--others',
        '--exclude-standard',
        '--',
        '*.dvc',
        'dvc.yaml',
        '*/dvc.yaml',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    listing = [...new Set(out.split('\0').filter((f) => f !== ''))]
      .map((f) => path.join(root, f))
      .filter((f) => fs.existsSync(f))
      .sort();
  } catch {
    listing = undefined;
  }
  metaListings.set(root, listing);
  return listing;
}
