// OCI 1.1 referrers against distribution, which has no referrers API: pushing a manifest with a
// `subject` adds it to the `sha256-<hex>` index (the tag schema), and listing finds it there.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/oci/layout.js';
import { RegistryClient } from '../../src/oci/registry/client.js';
import { putManifest } from '../../src/oci/registry/manifests.js';
import { listReferrers, pushReferrer, referrersTag } from '../../src/oci/registry/referrers.js';
import { uploadBlob } from '../../src/oci/registry/upload.js';
import { referenceFor } from '../../src/oci/reference.js';
import { tempDir } from '../modelkit/helpers.js';
import { startRegistry, type RunningRegistry } from './harness.js';
import { cliJson, enabled, freshEnv, sha256, skopeo } from './transfer-helpers.js';

let reg: RunningRegistry | undefined;
beforeAll(async () => {
  if (enabled) reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

describe.skipIf(!enabled)('referrers (tag schema fallback)', () => {
  it('pushed referrers of a manifest are listed, once each, and filtered by artifact type', async () => {
    if (reg === undefined) throw new Error('no registry');
    const store = await LocalStore.open(path.join(tempDir('cairn-ref-'), 'storage'));
    const client = new RegistryClient(reg.host, { plainHttp: true, tlsVerify: true, env: {} });
    const repo = 'cairn/referred';
    const send = async (bytes: string) => {
      const d = await store.putBlob(bytes);
      await uploadBlob(client, store, repo, d, { mountFrom: [], chunkSize: 0 });
      return d;
    };
    try {
      const empty = await send('{}');
      const emptyDesc = { mediaType: 'application/vnd.oci.empty.v1+json', ...empty };
      const subjectBytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: emptyDesc,
          layers: [],
        }),
      );
      const subject = await putManifest(
        client,
        referenceFor(reg.host, repo, 'v1', undefined),
        subjectBytes,
      );
      const referrer = async (artifactType: string, payload: string) => {
        const layer = await send(payload);
        return Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            artifactType,
            config: emptyDesc,
            layers: [{ mediaType: 'application/octet-stream', ...layer }],
            subject: {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest: subject,
              size: subjectBytes.length,
            },
            annotations: { 'org.example.note': payload },
          }),
        );
      };
      expect(await listReferrers(client, repo, subject)).toEqual({
        referrers: [],
        via: 'tag-schema',
      });
      const sig = await referrer('application/vnd.example.signature', 'signed');
      const prov = await referrer('application/vnd.example.provenance', 'built here');
      const a = await pushReferrer(client, repo, sig);
      const b = await pushReferrer(client, repo, prov);
      await pushReferrer(client, repo, sig); // again: no duplicate entry
      expect(a).toEqual({ digest: sha256(sig), via: 'tag-schema' });
      const all = await listReferrers(client, repo, subject);
      expect(all.referrers.map((d) => d.digest)).toEqual([a.digest, b.digest]);
      expect(all.referrers[0]).toMatchObject({
        artifactType: 'application/vnd.example.signature',
        size: sig.length,
        annotations: { 'org.example.note': 'signed' },
      });
      const only = await listReferrers(client, repo, subject, 'application/vnd.example.provenance');
      expect(only.referrers.map((d) => d.digest)).toEqual([b.digest]);
      // An independent client sees the fallback index at the tag schema's tag.
      const raw = await skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${reg.host}/${repo}:${referrersTag(subject)}`,
      );
      const index = JSON.parse(raw.stdout) as {
        mediaType: string;
        manifests: { digest: string }[];
      };
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(index.manifests.map((m) => m.digest)).toEqual([a.digest, b.digest]);
      // And the CLI lists them by tag.
      const e = freshEnv();
      const listed = await cliJson<{
        subject: string;
        via: string;
        referrers: { digest: string }[];
      }>(e, [
        'referrers',
        `${reg.host}/${repo}:v1`,
        '--artifact-type',
        'application/vnd.example.signature',
      ]);
      expect(listed).toMatchObject({ subject, via: 'tag-schema' });
      expect(listed.referrers.map((d) => d.digest)).toEqual([a.digest]);
    } finally {
      await client.close();
    }
  });
});
