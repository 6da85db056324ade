/** The few git plumbing calls Cairn needs: list revisions and read files at a revision. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CairnError } from './errors.js';

const execFileP = promisify(execFile);

export interface GitOptions {
  /** the environment git runs in (default: this process's; experiments add GIT_INDEX_FILE) */
  env?: NodeJS.ProcessEnv;
  /** written to git's standard input (`update-ref --stdin` transactions) */
  input?: string;
}

/** Runs git in `cwd`; a failure is a `git-failed` CairnError quoting git's last error line. */
export async function git(
  cwd: string,
  args: readonly string[],
  o: GitOptions = {},
): Promise<string> {
  try {
    const run = execFileP('git', args, {
      cwd,
      env: o.env ?? process.env,
      maxBuffer: 1024 * 1024 * 1024,
    });
    run.child.stdin?.end(o.input);
    const { stdout } = await run;
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const last = (e.stderr ?? e.message).trim().split('\n').pop() ?? '';
    throw new CairnError('git-failed', `git ${args.join(' ')} failed in ${cwd}: ${last}`, {
      hint: 'Check that this is a git repository with at least one commit and a user identity (git config user.name / user.email).',
      cause: error,
    });
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

/** One object `git cat-file --batch` answered for a request. */
export interface BatchObject {
  /** the object id */
  oid: string;
  data: Buffer;
}

/**
 * Reads many objects (`<commit>:<path>` or ids) through one `git cat-file --batch` process;
 * a missing one maps to undefined.
 */
export async function catFileBatch(
  cwd: string,
  requests: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<(BatchObject | undefined)[]> {
  if (requests.length === 0) return [];
  const child = spawn('git', ['cat-file', '--batch'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(`${requests.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new CairnError(
            'git-failed',
            `git cat-file --batch exited with ${String(code)} in ${cwd}: ${stderr.trim()}`,
          ),
        );
    });
  });
  const all = Buffer.concat(chunks);
  const out: (BatchObject | undefined)[] = [];
  let pos = 0;
  for (let i = 0; i < requests.length; i++) {
    const nl = all.indexOf(0x0a, pos);
    if (nl < 0) throw new Error('Internal error: git cat-file --batch answered too few objects');
    const header = all.subarray(pos, nl).toString();
    pos = nl + 1;
    // "<oid> <type> <size>", or "<request> missing" / "<request> ambiguous"
    const [oid, type, sizeText] = header.split(' ');
    const size = Number(sizeText);
    if (
      oid === undefined ||
      type === undefined ||
      sizeText === undefined ||
      !Number.isFinite(size)
    ) {
      out.push(undefined);
      continue;
    }
    out.push({ oid, data: all.subarray(pos, pos + size) });
    pos += size + 1;
  }
  return out;
}

/** Reads many blobs through one `git cat-file --batch` process, by id; missing ones are left out. */
export async function readBlobs(
  cwd: string,
  blobs: readonly string[],
): Promise<Map<string, Buffer>> {
  const objects = await catFileBatch(cwd, blobs);
  const result = new Map<string, Buffer>();
  blobs.forEach((id, i) => {
    const o = objects[i];
    if (o !== undefined) result.set(id, o.data);
  });
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
