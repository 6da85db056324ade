/**
 * ModelKit-level operations on the local store: record a manifest under references, resolve a
 * reference, read manifests and configs with verification, untag, remove and collect garbage —
 * with kit's semantics (§3 "Remove").
 */
import { CairnError } from '../core/errors.js';
import type { Sha256Digest } from './digest.js';
import type { LocalStore } from './layout.js';
import { parseManifest, type Descriptor, type ImageManifest } from './manifest.js';
import {
  DEFAULT_REGISTRY,
  UNTAGGED_REPOSITORY,
  displayReference,
  repositoryOf,
  type OciReference,
} from './reference.js';

export const UNTAGGED_REPO = `${DEFAULT_REGISTRY}/${UNTAGGED_REPOSITORY}`;

/** Adds the manifest to each reference's repository (and tag); none means `localhost/_`. */
export async function recordManifest(
  store: LocalStore,
  desc: Descriptor,
  refs: readonly OciReference[],
): Promise<void> {
  if (refs.length === 0) {
    await store.addManifest(UNTAGGED_REPO, desc);
    return;
  }
  for (const ref of refs) {
    const repo = repositoryOf(ref);
    await store.addManifest(repo, desc);
    if (ref.tag !== undefined) {
      const tags = await store.readTags(repo);
      tags.set(ref.tag, desc);
      await store.writeTags(repo, tags);
    }
  }
}

export class NotFoundError extends CairnError {
  override readonly name = 'NotFoundError';
}

export interface Resolved {
  /** `registry/repository` it was found in */
  repository: string;
  desc: Descriptor;
}

/** Finds a reference in the local store; a bare digest is looked up in every repository. */
export async function resolveLocal(store: LocalStore, ref: OciReference): Promise<Resolved> {
  const repo = repositoryOf(ref);
  if (ref.digest !== undefined) {
    const repos =
      ref.repository === UNTAGGED_REPOSITORY ? [repo, ...(await store.listRepositories())] : [repo];
    for (const r of repos) {
      const found = (await store.readRepoIndex(r)).find((d) => d.digest === ref.digest);
      if (found !== undefined) return { repository: r, desc: found };
    }
  } else {
    const tag = ref.tag ?? 'latest';
    const found = (await store.readTags(repo)).get(tag);
    if (found !== undefined) return { repository: repo, desc: found };
  }
  throw new NotFoundError(
    'not-found',
    `${displayReference(ref)} is not in the local store (${store.root})`,
    {
      hint: 'Run `cairn list` to see what is stored; pack it or pull it first.',
    },
  );
}

export async function readManifest(store: LocalStore, desc: Descriptor): Promise<ImageManifest> {
  const bytes = await store.readBlob(desc.digest, desc.size);
  return parseManifest(bytes.toString('utf8'), `manifest ${desc.digest}`);
}

/** Every blob a manifest needs, the manifest itself included. */
export function blobsOf(desc: Descriptor, m: ImageManifest): Sha256Digest[] {
  return [desc.digest, m.config.digest, ...(m.layers ?? []).map((l) => l.digest)];
}

export interface StoredModelKit {
  repository: string;
  desc: Descriptor;
  tags: string[];
}

/** Every (repository, manifest) pair, with its tags, optionally for one repository. */
export async function listStored(
  store: LocalStore,
  repository?: string,
): Promise<StoredModelKit[]> {
  const repos = repository === undefined ? await store.listRepositories() : [repository];
  const out: StoredModelKit[] = [];
  for (const repo of repos) {
    const tags = await store.readTags(repo);
    for (const desc of await store.readRepoIndex(repo)) {
      const t = [...tags]
        .filter(([, d]) => d.digest === desc.digest)
        .map(([name]) => name)
        .sort();
      out.push({ repository: repo, desc, tags: t });
    }
  }
  return out;
}

export interface RemoveOptions {
  force: boolean;
}

export interface Removed {
  /** references that were untagged or removed, as displayed */
  untagged: string[];
  /** manifests removed from a repository */
  manifests: { repository: string; digest: Sha256Digest }[];
  /** blobs deleted by garbage collection */
  blobs: Sha256Digest[];
}

/**
 * kit's remove: by tag only untags unless it was the last tag (or --force); by digest removes
 * the manifest and all its tags from the repository. Blobs nothing else uses are deleted.
 */
export async function removeReference(
  store: LocalStore,
  ref: OciReference,
  o: RemoveOptions,
): Promise<Removed> {
  const { repository, desc } = await resolveLocal(store, ref);
  const result: Removed = { untagged: [], manifests: [], blobs: [] };
  const tags = await store.readTags(repository);
  if (ref.digest === undefined) {
    const tag = ref.tag ?? 'latest';
    tags.delete(tag);
    result.untagged.push(displayReference(ref));
    const others = [...tags.values()].some((d) => d.digest === desc.digest);
    await store.writeTags(repository, tags);
    if (others && !o.force) return result;
    if (o.force) {
      for (const [t, d] of tags) if (d.digest === desc.digest) tags.delete(t);
      await store.writeTags(repository, tags);
    }
  } else {
    for (const [t, d] of tags) if (d.digest === desc.digest) tags.delete(t);
    await store.writeTags(repository, tags);
  }
  await dropManifest(store, repository, desc, result);
  return result;
}

/** `rm --all`: untagged ModelKits; with `force`, everything. */
export async function removeAll(store: LocalStore, o: RemoveOptions): Promise<Removed> {
  const result: Removed = { untagged: [], manifests: [], blobs: [] };
  for (const item of await listStored(store)) {
    if (item.tags.length > 0 && !o.force) continue;
    if (item.tags.length > 0) {
      const tags = await store.readTags(item.repository);
      for (const t of item.tags) tags.delete(t);
      await store.writeTags(item.repository, tags);
    }
    await dropManifest(store, item.repository, item.desc, result);
  }
  return result;
}

async function dropManifest(
  store: LocalStore,
  repository: string,
  desc: Descriptor,
  result: Removed,
): Promise<void> {
  const list = await store.readRepoIndex(repository);
  await store.writeRepoIndex(
    repository,
    list.filter((d) => d.digest !== desc.digest),
  );
  result.manifests.push({ repository, digest: desc.digest });
  // Still used by another repository? Then nothing else goes.
  const stillListed = new Set<string>();
  const live = new Set<string>();
  for (const item of await listStored(store)) {
    stillListed.add(item.desc.digest);
    try {
      const m = await readManifest(store, item.desc);
      for (const b of blobsOf(item.desc, m)) live.add(b);
    } catch {
      live.add(item.desc.digest); // unreadable: keep what we can name
    }
  }
  if (stillListed.has(desc.digest)) return;
  const root = await store.readRootIndex();
  await store.writeRootIndex(root.filter((d) => d.digest !== desc.digest));
  let candidates: Sha256Digest[] = [desc.digest];
  try {
    candidates = blobsOf(desc, await readManifest(store, desc));
  } catch {
    // a corrupt or missing manifest: delete just the manifest blob
  }
  for (const b of new Set(candidates)) {
    if (live.has(b)) continue;
    await store.deleteBlob(b);
    result.blobs.push(b);
  }
}

/** `tag SRC DEST`: within a repository only the tags file changes; across, the manifest is shared. */
export async function tagReference(
  store: LocalStore,
  src: OciReference,
  dest: OciReference,
): Promise<Descriptor> {
  const { desc } = await resolveLocal(store, src);
  if (dest.tag === undefined) {
    throw new CairnError('tag-required', `${displayReference(dest)} names no tag`, {
      hint: 'Give the destination as repository:tag.',
    });
  }
  await recordManifest(store, desc, [dest]);
  return desc;
}
