/**
 * The trees metrics, params and plots are read from: the workspace on disk, or a git revision
 * read through plumbing (`ls-tree`, one `cat-file --batch`), never a checkout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { toPosix } from '../core/fs.js';
import { git, listBlobs, readBlobs } from '../core/git.js';

/** What DVC calls the uncommitted tree, in JSON keys and table headers. */
export const WORKSPACE = 'workspace';

/** A tree of files: the workspace, or one commit. Paths are repository-relative and POSIX. */
export interface RevisionTree {
  /** `workspace`, or the revision as the user named it (`HEAD`, `main`, a short sha) */
  readonly name: string;
  /** the full commit id; undefined for the workspace */
  readonly commit: string | undefined;
  /** every path of the tree below `dir` ('' for all), files only */
  list(dir: string): Promise<string[]>;
  /** the contents of several files at once; absent files are left out */
  readMany(rels: readonly string[]): Promise<Map<string, Buffer>>;
}

/** The workspace as it is on disk. */
export function workspaceTree(root: string): RevisionTree {
  return {
    name: WORKSPACE,
    commit: undefined,
    list(dir) {
      return Promise.resolve(walk(root, dir));
    },
    readMany(rels) {
      const out = new Map<string, Buffer>();
      for (const rel of rels) {
        try {
          out.set(rel, fs.readFileSync(path.join(root, rel)));
        } catch {
          // absent (or a directory): left out, as in a commit
        }
      }
      return Promise.resolve(out);
    },
  };
}

function walk(root: string, dir: string): string[] {
  const found: string[] = [];
  const visit = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === '.git' || e.name === '.cairn') continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) visit(child);
      else found.push(child);
    }
  };
  visit(dir);
  return found.sort();
}

/**
 * A commit's tree, listed once. `root` is the Cairn repository root, which may sit below the
 * git work tree's top: paths are taken relative to it.
 */
export async function commitTree(root: string, rev: string): Promise<RevisionTree> {
  const commit = await resolveRevision(root, rev);
  const prefix = (await git(root, ['rev-parse', '--show-prefix'])).trim();
  const blobs = new Map<string, string>();
  for (const { path: p, blob } of await listBlobs(root, commit, (p) => p.startsWith(prefix)))
    blobs.set(p.slice(prefix.length), blob);
  return {
    name: rev,
    commit,
    list(dir) {
      const base = dir === '' ? '' : `${toPosix(dir).replace(/\/$/, '')}/`;
      return Promise.resolve([...blobs.keys()].filter((p) => p.startsWith(base)).sort());
    },
    async readMany(rels) {
      const ids = rels.flatMap((r) => {
        const id = blobs.get(r);
        return id === undefined ? [] : [id];
      });
      const contents = await readBlobs(root, [...new Set(ids)]);
      const out = new Map<string, Buffer>();
      for (const rel of rels) {
        const id = blobs.get(rel);
        const bytes = id === undefined ? undefined : contents.get(id);
        if (bytes !== undefined) out.set(rel, bytes);
      }
      return out;
    },
  };
}

/** The commit a branch, tag or sha names; an unknown name is a `revision-invalid` error. */
export async function resolveRevision(root: string, rev: string): Promise<string> {
  if (rev.startsWith('-')) throw unknownRevision(rev);
  try {
    return (await git(root, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
  } catch (error) {
    throw unknownRevision(rev, error);
  }
}

function unknownRevision(rev: string, cause?: unknown): CairnError {
  return new CairnError(
    'revision-invalid',
    `unknown revision '${rev}': no branch, tag or commit of that name in this git repository`,
    {
      hint: 'Name a branch (`git branch -a`), a tag (`git tag`) or a commit (`git log --oneline`).',
      cause,
    },
  );
}

/** The workspace for `workspace` (or undefined), else the named commit. */
export function openTree(root: string, rev: string | undefined): Promise<RevisionTree> {
  return rev === undefined || rev === WORKSPACE
    ? Promise.resolve(workspaceTree(root))
    : commitTree(root, rev);
}

/** A tree with no files: `HEAD` of a repository without commits yet. */
export function emptyTree(name: string): RevisionTree {
  return {
    name,
    commit: '',
    list: () => Promise.resolve([]),
    readMany: () => Promise.resolve(new Map()),
  };
}

/**
 * The default old side of a diff: `HEAD`, or nothing at all before the first commit (so a new
 * repository's metrics show as all new instead of failing).
 */
export async function openHeadOrEmpty(root: string): Promise<RevisionTree> {
  try {
    return await commitTree(root, 'HEAD');
  } catch (error) {
    const born = await git(root, ['rev-parse', '--verify', '--quiet', 'HEAD']).then(
      () => true,
      () => false,
    );
    if (born) throw error;
    return emptyTree('HEAD');
  }
}
