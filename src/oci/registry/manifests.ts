/**
 * Manifests, tags and small blobs on a registry: fetched with a size cap and verified against
 * the digest they were asked by (and the one the registry claims), pushed with their own
 * Content-Type, listed and deleted — and a fetched manifest classified as a ModelKit or refused.
 */
import { CairnError, DigestMismatchError } from '../../core/errors.js';
import { Sha256Counter, parseSha256, sha256Of, type Sha256Digest } from '../digest.js';
import { parseManifest, type ImageManifest } from '../manifest.js';
import { INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE } from '../media-types.js';
import { formatReference, type OciReference } from '../reference.js';
import { MANIFEST_ACCEPT, type RegistryClient, type Response } from './client.js';
import { RegistryError } from './errors.js';
import { NotAModelKitError, modelKitFormat } from '../artifact.js';

/** The largest manifest accepted (distribution's own limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export const pullScope = (repository: string): string => `repository:${repository}:pull`;
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;

export interface FetchedManifest {
  bytes: Buffer;
  digest: Sha256Digest;
  /** Content-Type the registry sent */
  mediaType: string;
}

export class ManifestNotFoundError extends CairnError {
  override readonly name = 'ManifestNotFoundError';
}

/** Reads a body into memory, refusing more than `max` bytes. */
export async function readCapped(res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  const tooBig = (): CairnError =>
    new CairnError(
      'too-large',
      `${what} at ${res.url} is larger than ${max} bytes; refusing to read it`,
      {
        hint: 'Registries cap manifests at 4 MiB; this is not a ModelKit manifest.',
      },
    );
  if (Number.isFinite(declared) && declared > max) {
    res.body.destroy();
    throw tooBig();
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      res.body.destroy();
      throw tooBig();
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** `<tag>` or `<digest>` of a reference, as the manifests endpoint takes it. */
export function manifestRef(ref: OciReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

function notFound(ref: OciReference, url: string): ManifestNotFoundError {
  return new ManifestNotFoundError(
    'manifest-unknown',
    `${formatReference(ref)} was not found on the registry (${url})`,
    {
      hint: `Check the repository and tag; \`cairn list ${ref.registry}/${ref.repository}\` shows the tags there.`,
    },
  );
}

/** HEAD of a manifest: its digest and type, or undefined when the reference does not exist. */
export async function headManifest(
  client: RegistryClient,
  ref: OciReference,
): Promise<{ digest: Sha256Digest | undefined; mediaType: string; size: number } | undefined> {
  const res = await client.send({
    method: 'HEAD',
    url: client.url(ref.repository, `manifests/${manifestRef(ref)}`),
    scopes: [pullScope(ref.repository)],
    headers: { accept: MANIFEST_ACCEPT },
    ok: [200, 404],
    retry: true,
  });
  await res.body.dump();
  if (res.status === 404) return undefined;
  return {
    digest: parseSha256(res.headers['docker-content-digest'] ?? ''),
    mediaType: res.headers['content-type'] ?? '',
    size: Number(res.headers['content-length'] ?? -1),
  };
}

/** GET of a manifest, capped at 4 MiB and verified (by the digest asked for, or the one claimed). */
export async function fetchManifest(
  client: RegistryClient,
  ref: OciReference,
): Promise<FetchedManifest> {
  const res = await client.send({
    method: 'GET',
    url: client.url(ref.repository, `manifests/${manifestRef(ref)}`),
    scopes: [pullScope(ref.repository)],
    headers: { accept: MANIFEST_ACCEPT },
    ok: [200, 404],
    retry: true,
  });
  if (res.status === 404) {
    await res.body.dump();
    throw notFound(ref, res.url);
  }
  const bytes = await readCapped(
    res,
    MAX_MANIFEST_BYTES,
    `the manifest of ${formatReference(ref)}`,
  );
  const digest = sha256Of(bytes);
  const claimed = res.headers['docker-content-digest'];
  const expected = ref.digest ?? (claimed !== undefined ? parseSha256(claimed) : undefined);
  if (expected !== undefined && expected !== digest) {
    throw new DigestMismatchError(
      `manifest of ${formatReference(ref)} from ${res.url}`,
      expected,
      digest,
      {
        hint: 'The registry sent different bytes than it promised; nothing was stored. Try again or report it to the registry operator.',
      },
    );
  }
  return {
    bytes,
    digest,
    mediaType: (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '',
  };
}

/** Parses a fetched manifest and refuses anything that is not a ModelKit, saying what it is. */
export function asModelKit(ref: OciReference, m: FetchedManifest): ImageManifest {
  const where = `${formatReference(ref)} (${m.digest})`;
  const hint =
    'Cairn pulls ModelKits only (KitOps or CNCF ModelPack); use skopeo or docker for other artifacts.';
  let raw: { mediaType?: unknown; manifests?: unknown; config?: unknown };
  try {
    raw = JSON.parse(m.bytes.toString('utf8')) as typeof raw;
  } catch (error) {
    throw new NotAModelKitError('not-a-modelkit', `${where}: the manifest is not JSON`, {
      cause: error,
      hint,
    });
  }
  const declared = typeof raw.mediaType === 'string' ? raw.mediaType : m.mediaType;
  if (
    declared === INDEX_MEDIA_TYPE ||
    declared.includes('manifest.list') ||
    Array.isArray(raw.manifests)
  ) {
    throw new NotAModelKitError(
      'not-a-modelkit',
      `${where} is an image index (a ModelKit index or a multi-platform image), not a ModelKit`,
      { hint: 'Pull one of its entries by digest (repository@sha256:…).' },
    );
  }
  if (declared.startsWith('application/vnd.docker.')) {
    throw new NotAModelKitError(
      'not-a-modelkit',
      `${where} is a Docker image manifest (${declared}), not a ModelKit`,
      { hint },
    );
  }
  const manifest = parseManifest(m.bytes.toString('utf8'), where);
  if (modelKitFormat(manifest) === undefined) {
    throw new NotAModelKitError(
      'not-a-modelkit',
      `${where} is not a ModelKit: its config type is ${manifest.config.mediaType}${manifest.config.mediaType.includes('image.config') ? ' (a container image)' : ''}`,
      { hint },
    );
  }
  return manifest;
}

/** PUT of a manifest under a tag or its digest; returns the digest the registry confirmed. */
export async function putManifest(
  client: RegistryClient,
  ref: OciReference,
  bytes: Buffer,
  mediaType: string = MANIFEST_MEDIA_TYPE,
): Promise<Sha256Digest> {
  const digest = sha256Of(bytes);
  const res = await client.send({
    method: 'PUT',
    url: client.url(ref.repository, `manifests/${ref.tag ?? digest}`),
    scopes: [pushScope(ref.repository)],
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: () => bytes,
    ok: [200, 201],
    retry: true,
  });
  await res.body.dump();
  const claimed = res.headers['docker-content-digest'];
  if (claimed !== undefined && claimed !== '' && claimed !== digest) {
    throw new DigestMismatchError(`manifest pushed to ${res.url}`, digest, claimed, {
      hint: 'The registry stored different bytes than were sent; do not trust this tag.',
    });
  }
  return digest;
}

/** Tags of a repository (the registry's order; no pagination is relied on). */
export async function listTags(client: RegistryClient, repository: string): Promise<string[]> {
  const tags: string[] = [];
  let url: string | undefined = client.url(repository, 'tags/list');
  for (let page = 0; url !== undefined && page < 1000; page++) {
    const res: Response = await client.send({
      method: 'GET',
      url,
      scopes: [pullScope(repository)],
      ok: [200, 404],
      retry: true,
    });
    if (res.status === 404) {
      await res.body.dump();
      throw new ManifestNotFoundError(
        'repository-unknown',
        `the repository ${client.registry}/${repository} does not exist (${res.url})`,
        { hint: 'Check the name; repositories appear when something is pushed to them.' },
      );
    }
    const body = JSON.parse(
      (await readCapped(res, 16 * 1024 * 1024, 'the tag list')).toString('utf8'),
    ) as {
      tags?: unknown;
    };
    if (Array.isArray(body.tags))
      for (const t of body.tags) if (typeof t === 'string') tags.push(t);
    const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.link ?? '');
    const next: string | undefined =
      link?.[1] === undefined ? undefined : new URL(link[1], res.url).toString();
    url = next === url ? undefined : next;
  }
  return [...new Set(tags)];
}

/** DELETE of a manifest by digest (registries cannot delete by tag). */
export async function deleteManifest(
  client: RegistryClient,
  repository: string,
  digest: Sha256Digest,
): Promise<void> {
  const res = await client.send({
    method: 'DELETE',
    url: client.url(repository, `manifests/${digest}`),
    scopes: [`repository:${repository}:delete`, pushScope(repository)],
    ok: [200, 202, 204, 404, 405],
    retry: true,
  });
  await res.body.dump();
  if (res.status === 405) {
    throw new RegistryError(
      {
        status: 405,
        method: 'DELETE',
        url: res.url,
        detail: 'the registry does not allow deleting manifests',
      },
      'Deletion is disabled on this registry (distribution needs storage.delete.enabled).',
    );
  }
  if (res.status === 404) {
    throw new ManifestNotFoundError(
      'manifest-unknown',
      `${client.registry}/${repository}@${digest} does not exist (${res.url})`,
    );
  }
}

/** GET of a small blob (a config) into memory, verified against its descriptor. */
export async function fetchSmallBlob(
  client: RegistryClient,
  repository: string,
  digest: Sha256Digest,
  size: number,
): Promise<Buffer> {
  const res = await client.send({
    method: 'GET',
    url: client.url(repository, `blobs/${digest}`),
    scopes: [pullScope(repository)],
    ok: [200],
    retry: true,
  });
  const bytes = await readCapped(res, Math.max(size, 0), `blob ${digest}`).catch(
    (error: unknown) => {
      if (error instanceof CairnError && error.code === 'too-large') {
        throw new CairnError(
          'size-mismatch',
          `blob ${digest} from ${res.url} is larger than its descriptor's ${size} bytes`,
          {
            hint: 'The registry or the manifest is corrupt; nothing was stored.',
          },
        );
      }
      throw error;
    },
  );
  const hash = new Sha256Counter();
  hash.update(bytes);
  const actual = hash.digest();
  if (bytes.length !== size) {
    throw new CairnError(
      'size-mismatch',
      `blob ${digest} from ${res.url} is ${bytes.length} bytes, expected ${size}`,
      {
        hint: 'The registry sent a truncated blob; try again.',
      },
    );
  }
  if (actual !== digest) {
    throw new DigestMismatchError(`blob from ${res.url}`, digest, actual, {
      hint: 'The registry holds corrupt data for this digest; nothing was stored. Push the ModelKit again or tell the registry operator.',
    });
  }
  return bytes;
}
