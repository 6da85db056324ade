/**
 * Every change to an environment is a git commit, so history is the audit log: `deploy`,
 * `promote` and `rollback` rewrite `environments/<env>.yaml` (keeping the user's formatting)
 * and commit only that file, with trailers that `cairn history` reads back.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { git } from '../core/git.js';
import { formatCanary, setRolloutSteps, type CanaryStep } from './canary.js';
import { declaredModelKits, newEnvironmentText, setModelKit } from './edit.js';
import { environmentPath, parseEnvironment } from './environment.js';

export type GitOpsAction = 'deploy' | 'promote' | 'rollback';

/** One model whose declared ModelKit a change sets. */
export interface ModelChange {
  readonly model: string;
  /** `registry/repository@sha256:…` */
  readonly modelkit: string;
  /** the ModelKit's `dev.cairn.git.commit` annotation, when it has one */
  readonly sourceCommit?: string;
  /** what the environment declared before, if anything */
  readonly previous?: string;
  /** `--canary`: the model's new `rollout.steps`, written beside the digest */
  readonly canary?: readonly CanaryStep[];
}

export interface Committed {
  readonly commit: string;
  readonly environment: string;
  readonly action: GitOpsAction;
  readonly changes: readonly ModelChange[];
  /** `--push`: where the commit went */
  readonly pushed?: { readonly remote: string; readonly ref: string };
}

const relative = (env: string) => path.posix.join('environments', `${env}.yaml`);

async function readText(root: string, env: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(environmentPath(root, env), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** `Name <email>` of whoever git would record as the author here. */
export async function whoAmI(root: string): Promise<string> {
  const ident = (await git(root, ['var', 'GIT_AUTHOR_IDENT'])).trim();
  return ident.replace(/\s+\d+\s+[+-]\d{4}$/, '');
}

/**
 * Writes `changes` into `env`'s manifest and commits that file alone. The new text is parsed
 * before anything is written, so a change never leaves an invalid manifest behind.
 */
export async function commitChanges(
  root: string,
  env: string,
  action: GitOpsAction,
  changes: readonly ModelChange[],
  extraTrailers: readonly string[] = [],
): Promise<Committed> {
  const before = await readText(root, env);
  let text = before;
  const recorded: ModelChange[] = [];
  for (const change of changes) {
    const previous = text === undefined ? undefined : declaredModelKits(text).get(change.model);
    text =
      text === undefined
        ? newEnvironmentText(env, change.model, change.modelkit)
        : setModelKit(relative(env), text, change.model, change.modelkit);
    if (change.canary !== undefined) {
      text = setRolloutSteps(relative(env), text, change.model, change.canary);
    }
    recorded.push(previous === undefined ? change : { ...change, previous });
  }
  if (text === undefined || text === before) {
    throw new CairnError('nothing-to-commit', `environment '${env}' already declares that`, {
      hint: 'Nothing changed, so nothing was committed.',
    });
  }
  parseEnvironment(relative(env), text, env);
  await fsp.mkdir(path.dirname(environmentPath(root, env)), { recursive: true });
  await writeFileAtomic(environmentPath(root, env), text);
  const who = await whoAmI(root);
  const message = commitMessage(env, action, recorded, who, extraTrailers);
  try {
    await git(root, ['add', '--', relative(env)]);
    await git(root, ['commit', '--quiet', '--no-verify', '-m', message, '--', relative(env)]);
  } catch (error) {
    if (before === undefined) await fsp.rm(environmentPath(root, env), { force: true });
    else await writeFileAtomic(environmentPath(root, env), before);
    throw error;
  }
  const commit = (await git(root, ['rev-parse', 'HEAD'])).trim();
  return { commit, environment: env, action, changes: recorded };
}

const short = (ref: string) => ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, '@sha256:$1');

export function commitMessage(
  env: string,
  action: GitOpsAction,
  changes: readonly ModelChange[],
  who: string,
  extraTrailers: readonly string[],
): string {
  const subject =
    changes.length === 1 && changes[0] !== undefined
      ? `${action}(${env}): ${changes[0].model} -> ${short(changes[0].modelkit)}`
      : `${action}(${env}): ${String(changes.length)} models`;
  const body = changes.map(
    (c) =>
      `- ${c.model}: ${c.previous === undefined ? '(new)' : short(c.previous)} -> ${c.modelkit}` +
      (c.sourceCommit === undefined ? '' : ` (built from ${c.sourceCommit})`) +
      (c.canary === undefined ? '' : ` (canary ${formatCanary(c.canary)})`),
  );
  const trailers = [
    `Cairn-Action: ${action}`,
    `Cairn-Environment: ${env}`,
    ...changes.map((c) => `Cairn-Model: ${c.model}=${c.modelkit}`),
    ...changes.flatMap((c) =>
      c.sourceCommit === undefined ? [] : [`Cairn-Source-Commit: ${c.model}=${c.sourceCommit}`],
    ),
    ...changes.flatMap((c) =>
      c.canary === undefined ? [] : [`Cairn-Canary: ${c.model}=${formatCanary(c.canary)}`],
    ),
    ...extraTrailers,
    `Cairn-By: ${who}`,
  ];
  return `${subject}\n\n${body.join('\n')}\n\n${trailers.join('\n')}\n`;
}

/** The ModelKits `env` declared at git revision `rev`. */
export async function modelKitsAt(
  root: string,
  env: string,
  rev: string,
): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await git(root, ['show', `${rev}:${relative(env)}`]);
  } catch (error) {
    throw new CairnError(
      'revision-invalid',
      `${relative(env)} does not exist at revision '${rev}'`,
      { hint: `See \`cairn history ${env}\` for the revisions that changed it.`, cause: error },
    );
  }
  return declaredModelKits(text);
}
