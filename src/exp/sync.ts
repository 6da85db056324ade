/**
 * `exp push` and `exp pull`, as DVC's: experiment refs to and from a git remote under the same
 * names, and the cache objects their commits' `dvc.lock` and `.dvc` files refer to to and from
 * a data remote (`data/remote.ts`), unless `--no-cache`.
 *
 * Order keeps the remote and the repository whole: push copies the objects first and the refs
 * last, so a ref on the remote never names missing data; pull fetches the commits under
 * temporary refs, reads their lock files from git, pulls the objects, and only then moves the
 * experiment refs in one `update-ref` transaction.
 */
import { CairnError } from '../core/errors.js';
import { git } from '../core/git.js';
import type { CacheLayout } from '../data/cache.js';
import { pullObjects, pushObjects, type DataRemote, type TransferCounts } from '../data/remote.js';
import { referencedObjects } from './objects.js';
import { EXPS_PREFIX, parseExpRef, type ExpRef } from './refs.js';
import type { ExpRepo } from './run.js';

export interface SyncSelection {
  /** experiment names; empty: every experiment of `baseline` (or of all baselines with `all`) */
  names: readonly string[];
  all: boolean;
  /** HEAD */
  baseline: string | undefined;
  force: boolean;
}

/** Where the cache objects go; undefined with `--no-cache`. */
export interface DataSync {
  remote: DataRemote;
  cache: CacheLayout;
  jobs: number;
}

export interface SyncResult {
  /** the experiment refs moved */
  refs: string[];
  /** the data remote's name and the object counts; absent with `--no-cache` */
  cache?: TransferCounts & { remote: string };
}

type RemoteRef = Pick<ExpRef, 'ref' | 'baseline' | 'name' | 'commit'>;

/** The refs a selection picks from a list of experiment refs. */
function pick(refs: readonly RemoteRef[], sel: SyncSelection, where: string): readonly RemoteRef[] {
  let picked = refs;
  if (sel.names.length > 0) {
    picked = refs.filter((r) => sel.names.includes(r.name) || sel.names.includes(r.ref));
    const missing = sel.names.filter((n) => !picked.some((r) => r.name === n || r.ref === n));
    if (missing.length > 0)
      throw new CairnError(
        'not-found',
        `no experiment named ${missing.map((m) => `'${m}'`).join(', ')} ${where}`,
        {
          hint: 'List them with `cairn exp list -A`.',
        },
      );
  } else if (!sel.all) picked = refs.filter((r) => r.baseline === sel.baseline);
  return picked;
}

/** The remote's experiment refs; an unknown or unreachable remote is named as such. */
async function remoteExpRefs(r: ExpRepo, remote: string): Promise<RemoteRef[]> {
  let out: string;
  try {
    out = await git(r.root, ['ls-remote', '--refs', remote, `${EXPS_PREFIX}*`], { env: r.env });
  } catch (error) {
    throw new CairnError(
      'git-remote-unknown',
      `Git remote '${remote}' cannot be read: ${gitComplaint(error)}`,
      {
        hint: '`git remote -v` lists the remotes; add one with `git remote add NAME URL`, or pass a URL or path.',
        cause: error,
      },
    );
  }
  const refs: RemoteRef[] = [];
  for (const line of out.split('\n')) {
    const [commit, ref] = line.split('\t');
    const parsed = ref === undefined ? undefined : parseExpRef(ref);
    if (commit !== undefined && ref !== undefined && parsed !== undefined)
      refs.push({ ref, commit, ...parsed });
  }
  return refs;
}

/** git's first `fatal:` line from a failed `git()` call (its stderr travels on the cause). */
function gitComplaint(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { stderr?: unknown } | undefined) : undefined;
  const stderr = typeof cause?.stderr === 'string' ? cause.stderr : '';
  const fatal = stderr.split('\n').find((l) => l.startsWith('fatal: '));
  return fatal?.slice('fatal: '.length) ?? (error instanceof Error ? error.message : String(error));
}

function labelled(refs: readonly RemoteRef[]): { commit: string; label: string }[] {
  return refs.map((x) => ({ commit: x.commit, label: `experiment '${x.name}'` }));
}

export async function pushExperiments(
  r: ExpRepo,
  remote: string,
  local: readonly ExpRef[],
  sel: SyncSelection,
  data: DataSync | undefined,
): Promise<SyncResult> {
  const picked = pick(local, sel, 'here');
  await remoteExpRefs(r, remote); // the git remote is checked before any data moves
  let cache: SyncResult['cache'];
  if (data !== undefined) {
    const objects = await referencedObjects(r.root, labelled(picked));
    const counts = await pushObjects(data.cache, data.remote, objects, {
      jobs: data.jobs,
      sink: r.sink,
      ...(r.signal === undefined ? {} : { signal: r.signal }),
    });
    cache = { remote: data.remote.name, ...counts };
  }
  const refs = picked.map((x) => x.ref);
  if (refs.length > 0)
    await git(
      r.root,
      [
        'push',
        '--quiet',
        ...(sel.force ? ['--force'] : []),
        remote,
        ...refs.map((x) => `${x}:${x}`),
      ],
      { env: r.env },
    );
  return { refs, ...(cache === undefined ? {} : { cache }) };
}

/** Where pull parks fetched commits until their data is in the cache. */
function stagingPrefix(): string {
  return `refs/cairn/exp-pull-${String(process.pid)}/`;
}

async function localCommit(r: ExpRepo, ref: string): Promise<string | undefined> {
  const out = await git(r.root, ['for-each-ref', '--format=%(objectname)', ref], { env: r.env });
  return out.trim() === '' ? undefined : out.trim();
}

async function isAncestor(r: ExpRepo, older: string, newer: string): Promise<boolean> {
  try {
    await git(r.root, ['merge-base', '--is-ancestor', older, newer], { env: r.env });
    return true;
  } catch {
    return false;
  }
}

export async function pullExperiments(
  r: ExpRepo,
  remote: string,
  sel: SyncSelection,
  data: DataSync | undefined,
): Promise<SyncResult> {
  const picked = pick(await remoteExpRefs(r, remote), sel, `on ${remote}`);
  if (picked.length === 0)
    return {
      refs: [],
      ...(data === undefined
        ? {}
        : {
            cache: { remote: data.remote.name, objects: 0, transferred: 0, present: 0, bytes: 0 },
          }),
    };
  const staging = stagingPrefix();
  const staged = picked.map((x, i) => ({ ...x, temp: `${staging}${String(i)}` }));
  try {
    await git(
      r.root,
      ['fetch', '--quiet', '--no-tags', remote, ...staged.map((x) => `+${x.ref}:${x.temp}`)],
      { env: r.env },
    );
    // What was fetched, even if the remote moved since ls-remote.
    const fetched = await Promise.all(
      staged.map(async (x) => ({ ...x, commit: (await localCommit(r, x.temp)) ?? x.commit })),
    );
    const updates: string[] = [];
    for (const x of fetched) {
      const old = await localCommit(r, x.ref);
      if (old === x.commit) continue;
      if (old !== undefined && !sel.force && !(await isAncestor(r, old, x.commit)))
        throw new CairnError(
          'exists',
          `Experiment ${x.ref} here is ${old.slice(0, 7)}, on ${remote} it is ${x.commit.slice(0, 7)}`,
          {
            hint: 'Nothing was pulled. Pass -f to replace the local experiment with the remote one.',
          },
        );
      updates.push(`update ${x.ref} ${x.commit} ${old ?? '0'.repeat(40)}\n`);
    }
    let cache: SyncResult['cache'];
    if (data !== undefined) {
      const objects = await referencedObjects(r.root, labelled(fetched));
      const counts = await pullObjects(data.cache, data.remote, objects, {
        jobs: data.jobs,
        sink: r.sink,
        ...(r.signal === undefined ? {} : { signal: r.signal }),
      });
      cache = { remote: data.remote.name, ...counts };
    }
    if (updates.length > 0)
      await git(r.root, ['update-ref', '--stdin'], {
        env: r.env,
        input: `start\n${updates.join('')}commit\n`,
      });
    return { refs: fetched.map((x) => x.ref), ...(cache === undefined ? {} : { cache }) };
  } finally {
    await dropStaging(r, staging);
  }
}

async function dropStaging(r: ExpRepo, staging: string): Promise<void> {
  const out = await git(r.root, ['for-each-ref', '--format=%(refname)', staging], { env: r.env });
  const refs = out.split('\n').filter((l) => l !== '');
  if (refs.length > 0)
    await git(r.root, ['update-ref', '--stdin'], {
      env: r.env,
      input: refs.map((x) => `delete ${x}\n`).join(''),
    });
}
