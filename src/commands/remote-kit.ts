/**
 * ModelKits read straight from a registry, without storing them: `list REGISTRY/REPO`,
 * `info --remote`, `inspect --remote` and `rm --remote` (remote unpack: src/modelkit/remote.ts).
 */
import { CairnError } from '../core/errors.js';
import type { Sha256Digest } from '../oci/digest.js';
import { ANNOTATION_CLI_VERSION } from '../oci/media-types.js';
import {
  displayRepository,
  formatReference,
  parseReference,
  DEFAULT_REGISTRY,
  referenceFor,
  remoteReference,
  withDigest,
} from '../oci/reference.js';
import {
  deleteManifest,
  fetchManifest,
  headManifest,
  listTags,
} from '../oci/registry/manifests.js';
import { mapLimit } from '../core/limit.js';
import { NotAModelKitError } from '../oci/artifact.js';
import { infoOf, type KitInfo } from '../modelkit/kitfile-filter.js';
import { layerBytes, listRow, type ListRow } from '../modelkit/list-row.js';
import { fetchRemoteKit } from '../modelkit/remote.js';
import type { CommandContext } from './context.js';
import { withClient, type RemoteFlags } from './options.js';

/** `list REGISTRY/REPO`: the repository's tags that are ModelKits, grouped by manifest. */
export async function remoteList(
  ctx: CommandContext,
  repository: string,
  flags: RemoteFlags,
): Promise<ListRow[]> {
  const ref = remoteReference(repository, 'list');
  return withClient(ctx, ref, flags, async (client) => {
    const tags = await listTags(client, ref.repository);
    const found = await mapLimit(tags, flags.concurrency ?? 5, async (tag) => {
      try {
        return {
          tag,
          kit: await fetchRemoteKit(
            client,
            referenceFor(ref.registry, ref.repository, tag, undefined),
          ),
        };
      } catch (error) {
        if (error instanceof NotAModelKitError) return undefined; // images and indexes: not listed
        throw error;
      }
    });
    const rows = new Map<string, ListRow>();
    for (const f of found) {
      if (f === undefined) continue;
      const row = rows.get(f.kit.digest);
      if (row !== undefined) {
        row.tags.push(f.tag);
        continue;
      }
      rows.set(
        f.kit.digest,
        listRow(
          displayRepository(ref.registry, ref.repository),
          f.kit.digest,
          [f.tag],
          f.kit.kitfile,
          layerBytes(f.kit.manifest),
        ),
      );
    }
    for (const r of rows.values()) r.tags.sort();
    return [...rows.values()];
  });
}

export async function remoteInfo(
  ctx: CommandContext,
  reference: string,
  flags: RemoteFlags & { filter?: string },
): Promise<KitInfo> {
  const ref = remoteReference(reference, 'info');
  const { kitfile } = await withClient(ctx, ref, flags, (c) => fetchRemoteKit(c, ref));
  if (kitfile === undefined) throw new CairnError('no-kitfile', `${reference} carries no Kitfile`);
  return infoOf(kitfile, flags.filter);
}

export async function remoteInspect(ctx: CommandContext, reference: string, flags: RemoteFlags) {
  const ref = remoteReference(reference, 'inspect');
  const kit = await withClient(ctx, ref, flags, (c) => fetchRemoteKit(c, ref));
  return {
    digest: kit.digest,
    cliVersion: kit.manifest.annotations?.[ANNOTATION_CLI_VERSION] ?? 'unknown',
    kitfile: kit.kitfile ?? null,
    manifest: kit.manifest,
  };
}

export interface RemoteRemoved {
  reference: string;
  digest: Sha256Digest;
  /** every tag that pointed at the deleted manifest (the one named included) */
  tags: string[];
}

/**
 * `rm --remote`: registries delete manifests by digest, which removes every tag pointing at it.
 * Removing by tag therefore refuses when other tags share the manifest, unless `force`.
 */
export async function remoteRemove(
  ctx: CommandContext,
  reference: string,
  flags: RemoteFlags & { force: boolean },
): Promise<RemoteRemoved> {
  const ref = remoteReference(reference, 'rm --remote');
  return withClient(ctx, ref, flags, async (client) => {
    let digest = ref.digest;
    if (digest === undefined) {
      const head = await headManifest(client, ref);
      if (head === undefined) {
        throw new CairnError(
          'manifest-unknown',
          `${formatReference(ref)} was not found on the registry`,
          {
            hint: `\`cairn list ${ref.registry}/${ref.repository}\` shows the tags there.`,
          },
        );
      }
      digest = head.digest ?? (await fetchManifest(client, ref)).digest;
    }
    const target = digest;
    const tags = await listTags(client, ref.repository).catch(() => [] as string[]);
    const sharing = (
      await mapLimit(tags, flags.concurrency ?? 5, async (t) => {
        const h = await headManifest(
          client,
          referenceFor(ref.registry, ref.repository, t, undefined),
        );
        return h?.digest === target ? t : undefined;
      })
    ).filter((t): t is string => t !== undefined);
    const others = sharing.filter((t) => t !== ref.tag);
    if (ref.tag !== undefined && others.length > 0 && !flags.force) {
      throw new CairnError(
        'shared-manifest',
        `${formatReference(ref)} shares its manifest ${target} with the tags ${others.join(', ')}; the registry can only delete the manifest, which removes them all`,
        { hint: 'Pass --force to delete the manifest and every tag pointing to it.' },
      );
    }
    await deleteManifest(client, ref.repository, target);
    return {
      reference: formatReference(withDigest(ref, target)),
      digest: target,
      tags: sharing.sort(),
    };
  });
}

/** True when `list` was given a repository on a registry (kit lists those remotely). */
export function namesRegistry(repository: string | undefined): boolean {
  return repository !== undefined && parseReference(repository).ref.registry !== DEFAULT_REGISTRY;
}

/** `referrers REF`: the manifests whose `subject` is REF's manifest (signatures, provenance…). */
export async function remoteReferrers(
  ctx: CommandContext,
  reference: string,
  flags: RemoteFlags & { artifactType?: string },
) {
  const ref = remoteReference(reference, 'referrers');
  return withClient(ctx, ref, flags, async (client) => {
    const { listReferrers } = await import('../oci/registry/referrers.js');
    const head = ref.digest === undefined ? await headManifest(client, ref) : undefined;
    if (ref.digest === undefined && head === undefined) {
      throw new CairnError(
        'manifest-unknown',
        `${formatReference(ref)} was not found on the registry`,
      );
    }
    const subject = ref.digest ?? head?.digest ?? (await fetchManifest(client, ref)).digest;
    const found = await listReferrers(client, ref.repository, subject, flags.artifactType);
    return { subject, via: found.via, referrers: found.referrers };
  });
}
