/**
 * The GitOps commands on `environments/<env>.yaml`: `deploy`, `promote`, `rollback`,
 * `history` and `render k8s`. Each change is a git commit (src/deploy/gitops.ts); `deploy`
 * first resolves its reference to a digest in the local store or, failing that, the registry.
 */
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { git } from '../core/git.js';
import { parseCanary } from '../deploy/canary.js';
import { readEnvironment } from '../deploy/environment.js';
import type { Committed } from '../deploy/gitops.js';
import {
  deploy,
  history,
  promote,
  rollback,
  type HistoryEntry,
  type ResolvedModelKit,
} from '../deploy/operations.js';
import type { RenderOptions, RenderedFile } from '../deploy/render-k8s.js';
import type { Kitfile } from '../modelkit/kitfile.js';
import { ANNOTATION_GIT_COMMIT } from '../modelkit/provenance.js';
import { readModelKit } from '../modelkit/read.js';
import { NotFoundError, readManifest, resolveLocal } from '../oci/local-repo.js';
import type { ImageManifest } from '../oci/manifest.js';
import { DEFAULT_REGISTRY, orLatest, parseReference, type OciReference } from '../oci/reference.js';
import type { CommandContext } from './context.js';
import { openStore, withClient, type RemoteFlags } from './options.js';

/** The top of the git work tree `cwd` is in: environments live there. */
async function gitRoot(ctx: CommandContext): Promise<string> {
  try {
    return (await git(ctx.cwd, ['rev-parse', '--show-toplevel'])).trim();
  } catch (error) {
    throw new CairnError('not-a-repo', `${ctx.cwd} is not inside a git repository`, {
      hint: 'Environments are files in git: run this in the repository that holds environments/.',
      cause: error,
    });
  }
}

function describe(
  ref: OciReference,
  digest: string,
  manifest: ImageManifest,
  kitfile: Kitfile | undefined,
): ResolvedModelKit {
  const sourceCommit = manifest.annotations?.[ANNOTATION_GIT_COMMIT];
  const modelName =
    kitfile?.model?.name ?? kitfile?.package.name ?? ref.repository.split('/').pop() ?? 'model';
  return {
    modelkit: `${ref.registry}/${ref.repository}@${digest}`,
    modelName,
    ...(sourceCommit === undefined ? {} : { sourceCommit }),
  };
}

/** A reference as a digest: the local store first, else the registry it names. */
export async function resolveModelKit(
  ctx: CommandContext,
  reference: string,
  flags: RemoteFlags,
): Promise<ResolvedModelKit> {
  const { ref } = parseReference(reference);
  const wanted = ref.digest === undefined ? orLatest(ref) : ref;
  const store = await openStore(ctx, flags);
  try {
    const found = await resolveLocal(store, wanted);
    const manifest = await readManifest(store, found.desc);
    const { kitfile } = await readModelKit(store, manifest, found.desc.digest);
    return describe(ref, found.desc.digest, manifest, kitfile);
  } catch (error) {
    if (!(error instanceof NotFoundError) || ref.registry === DEFAULT_REGISTRY) throw error;
  }
  const { fetchRemoteKit } = await import('../modelkit/remote.js');
  const kit = await withClient(ctx, wanted, flags, (client) => fetchRemoteKit(client, wanted));
  return describe(ref, kit.digest, kit.manifest, kit.kitfile);
}

export interface PushFlag {
  /** push the commit to the current branch's upstream */
  push?: boolean;
}

export interface DeployFlags extends RemoteFlags, PushFlag {
  /** the model's name in the environment; default: the Kitfile's model.name */
  model?: string;
  /** `10,25,50` or `10:30s,50:1m`: written as the model's rollout.steps */
  canary?: string;
}

/**
 * Runs one GitOps change and, with `--push`, sends it upstream. The upstream is looked up
 * first so that a branch without one fails before anything is committed.
 */
async function committing(
  root: string,
  flags: PushFlag,
  change: () => Promise<Committed>,
): Promise<Committed> {
  if (flags.push !== true) return change();
  const { pushHead, upstreamOf } = await import('../deploy/push.js');
  const upstream = await upstreamOf(root);
  const committed = await change();
  const pushed = await pushHead(root, upstream, committed.commit);
  return { ...committed, pushed };
}

export async function deployCommand(
  ctx: CommandContext,
  env: string,
  reference: string,
  flags: DeployFlags,
): Promise<Committed> {
  const root = await gitRoot(ctx);
  const canary = flags.canary === undefined ? undefined : parseCanary(flags.canary);
  const resolved = await resolveModelKit(ctx, reference, flags);
  return committing(root, flags, () => deploy(root, env, resolved, flags.model, canary));
}

export async function promoteCommand(
  ctx: CommandContext,
  from: string,
  to: string,
  flags: PushFlag = {},
): Promise<Committed> {
  const root = await gitRoot(ctx);
  return committing(root, flags, () => promote(root, from, to));
}

export async function rollbackCommand(
  ctx: CommandContext,
  env: string,
  to: string | undefined,
  flags: PushFlag = {},
): Promise<Committed> {
  const root = await gitRoot(ctx);
  return committing(root, flags, () => rollback(root, env, to));
}

export async function historyCommand(ctx: CommandContext, env: string): Promise<HistoryEntry[]> {
  return history(await gitRoot(ctx), env);
}

export interface RenderResult {
  /** the folder written, or undefined when the manifests went to stdout */
  readonly dir?: string;
  readonly files: readonly RenderedFile[];
}

/** `render k8s ENV`: Kubernetes manifests for the environment, written to `output` (or `-`). */
export async function renderK8sCommand(
  ctx: CommandContext,
  env: string,
  output: string | undefined,
  options: RenderOptions,
): Promise<RenderResult> {
  const root = await gitRoot(ctx);
  const environment = await readEnvironment(root, env);
  const { renderKubernetes, writeRendered } = await import('../deploy/render-k8s.js');
  const files = renderKubernetes(environment, options);
  if (output === '-') return { files };
  const dir = path.resolve(ctx.cwd, output ?? path.join(root, 'deploy', env));
  await writeRendered(dir, files);
  return { dir, files };
}
