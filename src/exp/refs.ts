/**
 * DVC's experiment ref layout: `refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`, one commit
 * whose single parent is the baseline. Other names under refs/exps (stash, celery, exec, apply,
 * temp) are DVC's internal namespaces and are not experiments.
 */
import { CairnError } from '../core/errors.js';
import { git } from '../core/git.js';

export const EXPS_PREFIX = 'refs/exps/';

/** One experiment ref. */
export interface ExpRef {
  /** the full ref name */
  ref: string;
  /** the baseline commit id (40 hex) */
  baseline: string;
  name: string;
  /** the experiment commit id */
  commit: string;
  /** committer time, seconds since the epoch */
  created: number;
}

export function expRefName(baseline: string, name: string): string {
  return `${EXPS_PREFIX}${baseline.slice(0, 2)}/${baseline.slice(2)}/${name}`;
}

/** Parses a ref of the experiment layout; undefined for DVC's internal namespaces. */
export function parseExpRef(ref: string): { baseline: string; name: string } | undefined {
  const m = /^refs\/exps\/([0-9a-f]{2})\/([0-9a-f]{38})\/(.+)$/.exec(ref);
  if (m === null) return undefined;
  return { baseline: `${m[1] ?? ''}${m[2] ?? ''}`, name: m[3] ?? '' };
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A name git accepts as one ref component and DVC can parse back. */
export function checkExpName(name: string): void {
  if (
    name === '' ||
    name.includes('/') ||
    name.startsWith('.') ||
    name.startsWith('-') ||
    name.endsWith('.lock') ||
    name.includes('..') ||
    /[\s~^:?*[\\]/.test(name) ||
    hasControlChar(name) ||
    name.includes('@{')
  ) {
    throw new CairnError('bad-flag', `'${name}' cannot name an experiment`, {
      hint: 'Use letters, digits, dashes, dots and underscores, without slashes or spaces.',
    });
  }
}

/** Every experiment ref of the repository, in one `git for-each-ref`. */
export async function listExpRefs(cwd: string, env: NodeJS.ProcessEnv): Promise<ExpRef[]> {
  const out = await git(
    cwd,
    ['for-each-ref', '--format=%(refname) %(objectname) %(committerdate:unix)', EXPS_PREFIX],
    { env },
  );
  const refs: ExpRef[] = [];
  for (const line of out.split('\n')) {
    const [ref, commit, created] = line.split(' ');
    if (ref === undefined || commit === undefined) continue;
    const parsed = parseExpRef(ref);
    if (parsed === undefined) continue;
    refs.push({ ref, commit, created: Number(created), ...parsed });
  }
  return refs;
}

/**
 * Finds experiments by name, ref or commit-id prefix. A name that several baselines share is
 * ambiguous unless one of them is `preferBaseline` (HEAD).
 */
export function findExp(refs: readonly ExpRef[], spec: string, preferBaseline?: string): ExpRef {
  const byRef = refs.filter((r) => r.ref === spec || r.ref === `${EXPS_PREFIX}${spec}`);
  const byName = byRef.length > 0 ? byRef : refs.filter((r) => r.name === spec);
  let found = byName;
  if (found.length === 0 && /^[0-9a-f]{4,40}$/.test(spec))
    found = refs.filter((r) => r.commit.startsWith(spec));
  if (found.length > 1 && preferBaseline !== undefined) {
    const here = found.filter((r) => r.baseline === preferBaseline);
    if (here.length === 1) found = here;
  }
  const [only] = found;
  if (only === undefined) {
    throw new CairnError('not-found', `no experiment named '${spec}'`, {
      hint: 'List them with `cairn exp list -A`.',
    });
  }
  if (found.length > 1) {
    throw new CairnError('bad-flag', `'${spec}' names ${String(found.length)} experiments`, {
      hint: `Name one by its full ref: ${found.map((r) => r.ref).join(', ')}.`,
    });
  }
  return only;
}

/** Resolves a revision to a commit id; a clear error when it does not exist. */
export async function resolveCommit(
  cwd: string,
  rev: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  try {
    return (
      await git(cwd, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { env })
    ).trim();
  } catch {
    throw new CairnError('revision-invalid', `revision '${rev}' does not exist in ${cwd}`, {
      hint: 'Name a branch, tag or commit (`git log --oneline` lists them).',
    });
  }
}
