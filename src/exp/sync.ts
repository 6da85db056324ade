/**
 * `exp push` and `exp pull`: experiment refs to and from a git remote, under the same names, as
 * DVC exchanges them. Only git objects move: Cairn has no DVC data remote yet (its remotes are
 * OCI registries for ModelKits), so cached outputs stay where they are (see docs/experiments.md).
 */
import { CairnError } from '../core/errors.js';
import { git } from '../core/git.js';
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

/** The refs a selection picks from a list of experiment refs. */
function pick(
  refs: readonly Pick<ExpRef, 'ref' | 'baseline' | 'name'>[],
  sel: SyncSelection,
  where: string,
): string[] {
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
  return picked.map((r) => r.ref);
}

export async function pushExperiments(
  r: ExpRepo,
  remote: string,
  local: readonly ExpRef[],
  sel: SyncSelection,
): Promise<string[]> {
  const refs = pick(local, sel, 'here');
  if (refs.length === 0) return [];
  await git(
    r.root,
    ['push', '--quiet', ...(sel.force ? ['--force'] : []), remote, ...refs.map((x) => `${x}:${x}`)],
    {
      env: r.env,
    },
  );
  return refs;
}

export async function pullExperiments(
  r: ExpRepo,
  remote: string,
  sel: SyncSelection,
): Promise<string[]> {
  const out = await git(r.root, ['ls-remote', '--refs', remote, `${EXPS_PREFIX}*`], {
    env: r.env,
  });
  const remoteRefs: Pick<ExpRef, 'ref' | 'baseline' | 'name'>[] = [];
  for (const line of out.split('\n')) {
    const ref = line.split('\t')[1];
    const parsed = ref === undefined ? undefined : parseExpRef(ref);
    if (ref !== undefined && parsed !== undefined) remoteRefs.push({ ref, ...parsed });
  }
  const refs = pick(remoteRefs, sel, `on ${remote}`);
  if (refs.length === 0) return [];
  await git(
    r.root,
    [
      'fetch',
      '--quiet',
      '--no-tags',
      remote,
      ...refs.map((x) => `${sel.force ? '+' : ''}${x}:${x}`),
    ],
    { env: r.env },
  );
  return refs;
}
