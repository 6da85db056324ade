/**
 * The git side of GitOps: deploy a ModelKit into an environment, promote one environment's
 * digests into another, roll back to an earlier revision's digests (a new commit, so an
 * auto-syncing agent converges on it instead of undoing it), and read the history back.
 */
import { CairnError } from '../core/errors.js';
import { git } from '../core/git.js';
import { parseReference } from '../oci/reference.js';
import type { CanaryStep } from './canary.js';
import { readEnvironment } from './environment.js';
import { commitChanges, modelKitsAt, type Committed, type ModelChange } from './gitops.js';

/** A reference resolved to its digest, as the registry or local store knows it. */
export interface ResolvedModelKit {
  /** `registry/repository@sha256:…` */
  readonly modelkit: string;
  /** the Kitfile's model.name (else package.name), used when no model is named */
  readonly modelName: string;
  readonly sourceCommit?: string;
}

export async function deploy(
  root: string,
  env: string,
  resolved: ResolvedModelKit,
  model?: string,
  canary?: readonly CanaryStep[],
): Promise<Committed> {
  const change: ModelChange = {
    model: model ?? resolved.modelName,
    modelkit: resolved.modelkit,
    ...(resolved.sourceCommit === undefined ? {} : { sourceCommit: resolved.sourceCommit }),
    ...(canary === undefined ? {} : { canary }),
  };
  return commitChanges(root, env, 'deploy', [change]);
}

/** Copies every digest `from` declares into `to`, as one commit. */
export async function promote(root: string, from: string, to: string): Promise<Committed> {
  const source = await readEnvironment(root, from);
  const head = (await git(root, ['rev-parse', 'HEAD'])).trim();
  const changes = source.models.map((m) => ({ model: m.name, modelkit: m.modelkit }));
  if (changes.length === 0) {
    throw new CairnError('nothing-to-commit', `environment '${from}' declares no model`);
  }
  return commitChanges(root, to, 'promote', changes, [`Cairn-Promoted-From: ${from}@${head}`]);
}

/**
 * Declares again the digests `env` had at `to` (default: just before its latest change).
 * Models added since then are left as they are; the result lists what changed.
 */
export async function rollback(root: string, env: string, to?: string): Promise<Committed> {
  const target = to ?? (await beforeLatestChange(root, env));
  const commit = (
    await git(root, ['rev-parse', '--verify', `${target}^{commit}`]).catch(() => {
      throw new CairnError('revision-invalid', `revision '${target}' does not exist`, {
        hint: `See \`cairn history ${env}\` for the revisions that changed it.`,
      });
    })
  ).trim();
  const then = await modelKitsAt(root, env, commit);
  const now = await readEnvironment(root, env);
  const changes = now.models.flatMap((m) => {
    const old = then.get(m.name);
    return old === undefined || old === m.modelkit ? [] : [{ model: m.name, modelkit: old }];
  });
  if (changes.length === 0) {
    throw new CairnError(
      'nothing-to-commit',
      `environment '${env}' already declares the digests it had at ${commit.slice(0, 12)}`,
    );
  }
  return commitChanges(root, env, 'rollback', changes, [`Cairn-Rollback-To: ${commit}`]);
}

async function beforeLatestChange(root: string, env: string): Promise<string> {
  const [latest] = (
    await git(root, ['log', '-n', '1', '--format=%H', '--', `environments/${env}.yaml`])
  )
    .split('\n')
    .filter((l) => l !== '');
  if (latest === undefined) {
    throw new CairnError('revision-invalid', `environments/${env}.yaml has no history in git`, {
      hint: 'Deploy into it first with `cairn deploy`.',
    });
  }
  return `${latest}^`;
}

/** One commit that changed an environment, as `cairn history` shows it. */
export interface HistoryEntry {
  readonly commit: string;
  /** ISO 8601 */
  readonly date: string;
  readonly author: string;
  /** `deploy`, `promote`, `rollback`, or `edit` for a commit made by hand */
  readonly action: string;
  readonly subject: string;
  /** model → ModelKit, from the commit's trailers (or the manifest at that commit) */
  readonly models: Readonly<Record<string, string>>;
}

const FIELD = '\x1f';
const RECORD = '\x1e';

/** Every commit that changed `environments/<env>.yaml`, newest first. */
export async function history(root: string, env: string): Promise<HistoryEntry[]> {
  const out = await git(root, [
    'log',
    `--format=%H${FIELD}%aI${FIELD}%an <%ae>${FIELD}%s${FIELD}%(trailers:only,unfold)${RECORD}`,
    '--',
    `environments/${env}.yaml`,
  ]);
  const entries: HistoryEntry[] = [];
  for (const record of out.split(RECORD)) {
    const [commit, date, author, subject, trailers] = record.replace(/^\n/, '').split(FIELD);
    if (commit === undefined || commit === '' || date === undefined) continue;
    const lines = (trailers ?? '').split('\n');
    const value = (key: string) =>
      lines.filter((l) => l.startsWith(`${key}: `)).map((l) => l.slice(key.length + 2));
    const models: Record<string, string> = {};
    for (const m of value('Cairn-Model')) {
      const eq = m.indexOf('=');
      if (eq > 0) models[m.slice(0, eq)] = m.slice(eq + 1);
    }
    const action = value('Cairn-Action')[0] ?? 'edit';
    if (action === 'edit') {
      const at = await modelKitsAt(root, env, commit).catch(() => new Map<string, string>());
      for (const [k, v] of at) models[k] = v;
    }
    entries.push({
      commit,
      date,
      author: value('Cairn-By')[0] ?? author ?? '',
      action,
      subject: subject ?? '',
      models,
    });
  }
  return entries;
}

/** `registry/repository@digest` for a reference whose digest is known. */
export function pinned(reference: string, digest: string): string {
  const ref = parseReference(reference).ref;
  return `${ref.registry}/${ref.repository}@${digest}`;
}
