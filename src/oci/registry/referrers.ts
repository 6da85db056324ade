/**
 * OCI 1.1 referrers: manifests whose `subject` points at another manifest (signatures,
 * attestations, provenance). Listed with the referrers API when the registry has one, else from
 * the tag schema's `sha256-<hex>` index, which a push keeps current (read-modify-write: two
 * clients pushing referrers of one subject at the same instant can lose one entry).
 */
import { CairnError } from '../../core/errors.js';
import { parseSha256, sha256Of, type Sha256Digest } from '../digest.js';
import { parseDescriptor, type Descriptor } from '../manifest.js';
import { INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE } from '../media-types.js';
import { referenceFor } from '../reference.js';
import { MANIFEST_ACCEPT, type RegistryClient } from './client.js';
import {
  MAX_MANIFEST_BYTES,
  fetchManifest,
  ManifestNotFoundError,
  pullScope,
  putManifest,
  readCapped,
} from './manifests.js';

export type ReferrersVia = 'api' | 'tag-schema';

/** The fallback tag for referrers of `subject`: `sha256-<hex>`. */
export function referrersTag(subject: Sha256Digest): string {
  return subject.replace(':', '-');
}

function parseIndex(bytes: Buffer, where: string): Descriptor[] {
  let raw: { manifests?: unknown };
  try {
    raw = JSON.parse(bytes.toString('utf8')) as { manifests?: unknown };
  } catch (error) {
    throw new CairnError('index-invalid', `${where}: the referrers index is not JSON`, {
      cause: error,
    });
  }
  return Array.isArray(raw.manifests)
    ? raw.manifests.map((d, i) => parseDescriptor(d, `${where} entry ${i}`))
    : [];
}

function indexJson(manifests: readonly Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests }),
    'utf8',
  );
}

async function tagSchemaIndex(
  client: RegistryClient,
  repository: string,
  subject: Sha256Digest,
): Promise<Descriptor[]> {
  const ref = referenceFor(client.registry, repository, referrersTag(subject), undefined);
  try {
    const fetched = await fetchManifest(client, ref);
    return parseIndex(fetched.bytes, `${client.registry}/${repository}:${referrersTag(subject)}`);
  } catch (error) {
    if (error instanceof ManifestNotFoundError) return [];
    throw error;
  }
}

/** Referrers of `subject` in `repository`, optionally only those of one artifact type. */
export async function listReferrers(
  client: RegistryClient,
  repository: string,
  subject: Sha256Digest,
  artifactType?: string,
): Promise<{ referrers: Descriptor[]; via: ReferrersVia }> {
  const url = new URL(client.url(repository, `referrers/${subject}`));
  if (artifactType !== undefined) url.searchParams.set('artifactType', artifactType);
  const res = await client.send({
    method: 'GET',
    url: url.toString(),
    scopes: [pullScope(repository)],
    headers: { accept: MANIFEST_ACCEPT },
    ok: [200, 404, 400, 405],
    retry: true,
  });
  let referrers: Descriptor[];
  let via: ReferrersVia;
  if (res.status === 200 && (res.headers['content-type'] ?? '').includes('index')) {
    referrers = parseIndex(
      await readCapped(res, MAX_MANIFEST_BYTES, 'the referrers list'),
      res.url,
    );
    via = 'api';
  } else {
    await res.body.dump();
    referrers = await tagSchemaIndex(client, repository, subject);
    via = 'tag-schema';
  }
  // A registry may ignore the filter (OCI-Filters-Applied tells); apply it here either way.
  return {
    referrers:
      artifactType === undefined
        ? referrers
        : referrers.filter((d) => d.artifactType === artifactType),
    via,
  };
}

/**
 * Pushes a manifest that has a `subject` (its blobs must be on the registry already) and makes
 * it findable: through the registry's referrers API when it says it indexed it (`OCI-Subject`),
 * else by adding it to the `sha256-<hex>` index.
 */
export async function pushReferrer(
  client: RegistryClient,
  repository: string,
  manifest: Buffer,
): Promise<{ digest: Sha256Digest; via: ReferrersVia }> {
  const parsed = JSON.parse(manifest.toString('utf8')) as {
    mediaType?: unknown;
    artifactType?: unknown;
    config?: { mediaType?: unknown };
    subject?: { digest?: unknown };
    annotations?: Record<string, string>;
  };
  const subject =
    typeof parsed.subject?.digest === 'string' ? parseSha256(parsed.subject.digest) : undefined;
  if (subject === undefined) {
    throw new CairnError('no-subject', 'the manifest has no subject, so it refers to nothing', {
      hint: 'A referrer names the manifest it is about in `subject`.',
    });
  }
  const mediaType = typeof parsed.mediaType === 'string' ? parsed.mediaType : MANIFEST_MEDIA_TYPE;
  const digest = sha256Of(manifest);
  const res = await client.send({
    method: 'PUT',
    url: client.url(repository, `manifests/${digest}`),
    scopes: [`repository:${repository}:pull,push`],
    headers: { 'content-type': mediaType, 'content-length': String(manifest.length) },
    body: () => manifest,
    ok: [200, 201],
    retry: true,
  });
  await res.body.dump();
  if (res.headers['oci-subject'] === subject) return { digest, via: 'api' };
  const entry: Descriptor = { mediaType, digest, size: manifest.length };
  const artifactType =
    typeof parsed.artifactType === 'string'
      ? parsed.artifactType
      : typeof parsed.config?.mediaType === 'string'
        ? parsed.config.mediaType
        : undefined;
  if (artifactType !== undefined) entry.artifactType = artifactType;
  if (parsed.annotations !== undefined && Object.keys(parsed.annotations).length > 0) {
    entry.annotations = parsed.annotations;
  }
  const current = await tagSchemaIndex(client, repository, subject);
  if (!current.some((d) => d.digest === digest)) {
    await putManifest(
      client,
      referenceFor(client.registry, repository, referrersTag(subject), undefined),
      indexJson([...current, entry]),
      INDEX_MEDIA_TYPE,
    );
  }
  return { digest, via: 'tag-schema' };
}
