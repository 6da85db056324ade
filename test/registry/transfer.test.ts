// Push and pull against a real registry (distribution 2.8) with skopeo as the independent
// client: ModelKits round-trip byte-identical through Cairn, skopeo and back; a no-op push sends
// nothing; corrupt, missing and foreign content is refused with nothing corrupt stored.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles } from '../modelkit/helpers.js';
import { startFaultProxy, startRegistry, type RunningRegistry } from './harness.js';
import {
  cli,
  cliJson,
  enabled,
  freshEnv,
  kitDir,
  sha256,
  skopeo,
  treeDigests,
  type Transfer,
} from './transfer-helpers.js';

let reg: RunningRegistry | undefined;
const R = (): RunningRegistry => {
  if (reg === undefined) throw new Error('the registry did not start');
  return reg;
};
beforeAll(async () => {
  if (enabled) reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

describe.skipIf(!enabled)('push and pull against distribution and skopeo', () => {
  it('a pushed ModelKit pulls into a fresh store and unpacks byte-identical', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 3 * 1024 * 1024 + 17);
    const ref = `${R().host}/cairn/roundtrip:v1`;
    expect((await cli(a, ['pack', src, '-t', ref])).code).toBe(0);
    const pushed = await cliJson<Transfer>(a, ['push', ref]);
    expect(pushed.manifest).toBe('stored');
    expect(pushed.blobs.map((b) => b.action)).toEqual([
      'uploaded',
      'uploaded',
      'uploaded',
      'uploaded',
    ]);

    const b = freshEnv();
    const pulled = await cliJson<Transfer>(b, ['pull', ref]);
    expect(pulled.digest).toBe(pushed.digest);
    expect(pulled.blobs.every((x) => x.action === 'downloaded')).toBe(true);
    // The registry serves the manifest byte-identical, and the store holds what was pushed.
    const raw = (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${ref}`)).stdout;
    expect(sha256(Buffer.from(raw))).toBe(pushed.digest);
    const out = path.join(b.work, 'out');
    expect((await cli(b, ['unpack', ref, '-d', out])).code).toBe(0);
    const want = treeDigests(src);
    const got = treeDigests(out);
    for (const f of ['model.bin', 'data/a.csv', 'data/b.csv', 'README.md'])
      expect(got[f]).toBe(want[f]);
    // Pulling again downloads nothing.
    const again = await cliJson<Transfer>(b, ['pull', ref]);
    expect(again.blobs.every((x) => x.action === 'present')).toBe(true);
    expect(again.manifest).toBe('present');
  });

  it('an empty (raw) layer goes up and comes back: zero-byte blobs are blobs too', async () => {
    const a = freshEnv();
    const dir = path.join(a.work, 'empty');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'empty.bin'), '');
    fs.writeFileSync(
      path.join(dir, 'Kitfile'),
      'manifestVersion: 1.0.0\npackage:\n  name: empty\nmodel:\n  path: empty.bin\n',
    );
    const ref = `${R().host}/cairn/empty:v1`;
    expect((await cli(a, ['pack', dir, '--layer-format', 'raw', '-t', ref])).code).toBe(0);
    const pushed = await cliJson<Transfer>(a, ['push', ref]);
    expect(pushed.blobs.map((b) => b.size)).toContain(0);
    const b = freshEnv();
    expect((await cliJson<Transfer>(b, ['pull', ref])).digest).toBe(pushed.digest);
    const out = path.join(b.work, 'out');
    expect((await cli(b, ['unpack', ref, '-d', out])).code).toBe(0);
    expect(fs.statSync(path.join(out, 'empty.bin')).size).toBe(0);
  });

  it('skopeo copies what Cairn pushed to a layout and another repository; Cairn pulls that back', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 1024 * 1024, 2);
    const ref = `${R().host}/cairn/skopeo-src:v1`;
    await cli(a, ['pack', src, '-t', ref]);
    const pushed = await cliJson<Transfer>(a, ['push', ref]);
    const layout = path.join(a.work, 'layout');
    await skopeo('copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:v1`);
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests[0]?.digest).toBe(pushed.digest);
    const other = `${R().host}/other/copied:v2`;
    await skopeo('copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${other}`);

    const b = freshEnv();
    const pulled = await cliJson<Transfer>(b, ['pull', other]);
    expect(pulled.digest).toBe(pushed.digest);
    const out = path.join(b.work, 'out');
    expect((await cli(b, ['unpack', other, '-d', out])).code).toBe(0);
    expect(treeDigests(out)['model.bin']).toBe(treeDigests(src)['model.bin']);
  });

  it('a no-op push sends no blob and no manifest, and takes one round of HEADs', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 2 * 1024 * 1024, 3);
    const proxy = await startFaultProxy(R().url);
    try {
      const ref = `${proxy.host}/cairn/noop:v1`;
      await cli(a, ['pack', src, '-t', ref]);
      await cliJson<Transfer>(a, ['push', ref]);
      const before = proxy.requests.length;
      const second = await cliJson<Transfer>(a, ['push', ref]);
      expect(second.manifest).toBe('present');
      expect(second.blobs.every((x) => x.action === 'present')).toBe(true);
      const after = proxy.requests.slice(before);
      expect(after.filter((r) => r.method !== 'HEAD')).toEqual([]);
      expect(after.reduce((s, r) => s + r.bytesIn, 0)).toBe(0);
    } finally {
      await proxy.stop();
    }
  });

  it('pushing to a second repository mounts the blobs instead of sending them', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 1024 * 1024, 4);
    const proxy = await startFaultProxy(R().url);
    try {
      const ref = `${proxy.host}/cairn/mount-a:v1`;
      await cli(a, ['pack', src, '-t', ref]);
      await cliJson<Transfer>(a, ['push', ref]);
      const before = proxy.requests.length;
      const second = await cliJson<Transfer>(a, ['push', ref, `${proxy.host}/cairn/mount-b:v1`]);
      expect(second.blobs.map((b) => b.action)).toEqual([
        'mounted',
        'mounted',
        'mounted',
        'mounted',
      ]);
      const after = proxy.requests.slice(before);
      expect(after.filter((r) => r.kind === 'upload')).toEqual([]);
      expect(
        after.filter((r) => r.kind === 'upload-start').every((r) => r.path.includes('mount=')),
      ).toBe(true);
      // skopeo sees a complete ModelKit there.
      const raw = await skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${R().host}/cairn/mount-b:v1`,
      );
      expect(sha256(Buffer.from(raw.stdout))).toBe(second.digest);
    } finally {
      await proxy.stop();
    }
  });

  it('large blobs go up in PATCH chunks, several at once, and pull back identical', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 5 * 1024 * 1024 + 3, 5);
    const proxy = await startFaultProxy(R().url);
    try {
      const ref = `${proxy.host}/cairn/chunked:v1`;
      await cli(a, ['pack', src, '-t', ref]);
      const pushed = await cliJson<Transfer>(a, ['push', ref, '--concurrency', '3'], {
        CAIRN_PUSH_CHUNK_SIZE: String(1024 * 1024),
      });
      expect(proxy.count('PATCH', 'upload')).toBe(6); // 5 MiB + 3 B + tar headers → 6 chunks
      const b = freshEnv();
      const pulled = await cliJson<Transfer>(b, ['pull', ref, '--concurrency', '3']);
      expect(pulled.digest).toBe(pushed.digest);
      const out = path.join(b.work, 'out');
      await cli(b, ['unpack', ref, '-d', out]);
      expect(treeDigests(out)['model.bin']).toBe(treeDigests(src)['model.bin']);
    } finally {
      await proxy.stop();
    }
  });
});

describe.skipIf(!enabled)('bad input from the registry', () => {
  it('a blob corrupted in the registry is refused with the digests and URL; nothing is stored', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 512 * 1024, 6);
    const ref = `${R().host}/cairn/corrupt:v1`;
    await cli(a, ['pack', src, '-t', ref]);
    const pushed = await cliJson<Transfer>(a, ['push', ref]);
    const layer = pushed.blobs.find((x) => x.size >= 512 * 1024);
    if (layer === undefined) throw new Error('no model layer');
    const hex = layer.digest.slice('sha256:'.length);
    const data = path.join(
      R().storage,
      'docker/registry/v2/blobs/sha256',
      hex.slice(0, 2),
      hex,
      'data',
    );
    const bytes = fs.readFileSync(data);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    fs.writeFileSync(data, bytes);

    const b = freshEnv();
    const r = await cli(b, ['pull', ref]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`expected digest ${layer.digest}`);
    expect(r.stderr).toContain(`${R().url}/v2/cairn/corrupt/blobs/${layer.digest}`);
    const storage = path.join(b.home, 'storage');
    expect(fs.existsSync(path.join(storage, 'blobs/sha256', hex))).toBe(false);
    expect(fs.readdirSync(path.join(storage, 'ingest'))).toEqual([]);
    expect(listFiles(storage).filter((f) => f.endsWith('-tags.json'))).toEqual([]);
  });

  it('a descriptor size that disagrees with the blob is refused either way; nothing is stored', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 8192, 7);
    const good = `${R().host}/cairn/sizes:good`;
    await cli(a, ['pack', src, '-t', good]);
    await cliJson<Transfer>(a, ['push', good]);
    const raw = JSON.parse(
      (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${good}`)).stdout,
    ) as {
      layers: { size: number }[];
    };
    const model = raw.layers[0];
    if (model === undefined) throw new Error('no layer');
    const real = model.size;
    // distribution accepts manifests whose sizes are wrong: the client must check.
    for (const [tag, size] of [
      ['small', real - 100],
      ['large', real + 100],
    ] as const) {
      model.size = size;
      const put = await fetch(`${R().url}/v2/cairn/sizes/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        body: JSON.stringify(raw),
      });
      expect(put.status).toBe(201);
      const b = freshEnv();
      const r = await cli(b, ['pull', `${R().host}/cairn/sizes:${tag}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        tag === 'small'
          ? `more than the descriptor's ${size} bytes`
          : `the blob is ${real} bytes, but the manifest says ${size}`,
      );
      const storage = path.join(b.home, 'storage');
      expect(fs.readdirSync(path.join(storage, 'ingest'))).toEqual([]);
      expect(listFiles(storage).filter((f) => f.endsWith('-tags.json'))).toEqual([]);
    }
  });

  it('a missing tag names the reference', async () => {
    const a = freshEnv();
    const r = await cli(a, ['pull', `${R().host}/cairn/roundtrip:nope`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${R().host}/cairn/roundtrip:nope was not found on the registry`);
  });

  it('a container image and an index are refused, saying what they are', async () => {
    const repo = 'cairn/image';
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const start = await fetch(`${R().url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location') ?? '', R().url);
    loc.searchParams.set('digest', sha256(config));
    expect((await fetch(loc, { method: 'PUT', body: config })).status).toBe(201);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256(config),
          size: config.length,
        },
        layers: [],
      }),
    );
    const put = await fetch(`${R().url}/v2/${repo}/manifests/v1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    expect(put.status).toBe(201);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(manifest),
            size: manifest.length,
          },
        ],
      }),
    );
    const putIndex = await fetch(`${R().url}/v2/${repo}/manifests/multi`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
      body: index,
    });
    expect(putIndex.status).toBe(201);

    const a = freshEnv();
    const image = await cli(a, ['pull', `${R().host}/${repo}:v1`]);
    expect(image.code).toBe(1);
    expect(image.stderr).toContain('is not a ModelKit');
    expect(image.stderr).toContain('(a container image)');
    const idx = await cli(a, ['pull', `${R().host}/${repo}:multi`]);
    expect(idx.code).toBe(1);
    expect(idx.stderr).toContain('is an image index');
    expect(fs.existsSync(path.join(a.home, 'storage'))).toBe(true);
    expect(listFiles(path.join(a.home, 'storage', 'blobs'))).toEqual([]);
  });

  it('push and pull name the registry as required, and a local-only reference is refused', async () => {
    const a = freshEnv();
    const r = await cli(a, ['pull', 'org/model:v1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('registry is required');
  });
});

describe.skipIf(!enabled)('remote ModelKits: list, info, inspect, rm and unpack', () => {
  it('list agrees with skopeo list-tags, leaving out what is not a ModelKit', async () => {
    const a = freshEnv();
    const repo = `${R().host}/cairn/listing`;
    await cli(a, ['pack', kitDir(a.work, 4096, 21), '-t', `${repo}:v1,v2`]);
    await cli(a, ['pack', kitDir(a.work, 8192, 22), '-t', `${repo}:v3`]);
    for (const t of ['v1', 'v2', 'v3'])
      expect((await cli(a, ['push', `${repo}:${t}`])).code).toBe(0);
    // A container image tag in the same repository is skipped, as kit does.
    await skopeo(
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${R().host}/cairn/image:v1`,
      `docker://${repo}:image`,
    );
    const listed = JSON.parse(
      (await skopeo('list-tags', '--tls-verify=false', `docker://${repo}`)).stdout,
    ) as {
      Tags: string[];
    };
    expect([...listed.Tags].sort()).toEqual(['image', 'v1', 'v2', 'v3']);
    const rows = await cliJson<
      { repo: string; digest: string; tags: string[]; modelName: string }[]
    >(a, ['list', repo]);
    expect(rows.flatMap((r) => r.tags).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(rows.find((r) => r.tags.includes('v1'))?.tags).toEqual(['v1', 'v2']);
    expect(rows.every((r) => r.modelName === 'roundtrip' && r.repo === repo)).toBe(true);
    // --local lists the local store's view of the same repository.
    const local = await cliJson<{ tags: string[] }[]>(a, ['list', repo, '--local']);
    expect(local.flatMap((r) => r.tags).sort()).toEqual(['v1', 'v2', 'v3']);
  });

  it('info and inspect --remote match the local store after a pull', async () => {
    const a = freshEnv();
    const ref = `${R().host}/cairn/listing:v3`;
    const remote = await cliJson<unknown>(a, ['inspect', '--remote', ref]);
    const info = await cli(a, ['info', '--remote', ref]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('name: roundtrip');
    await cliJson<Transfer>(a, ['pull', ref]);
    expect(await cliJson<unknown>(a, ['inspect', ref])).toEqual(remote);
    expect((await cli(a, ['info', ref])).stdout).toBe(info.stdout);
  });

  it('unpack of a remote reference fetches only the selected layers and stores nothing', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 256 * 1024, 23);
    const proxy = await startFaultProxy(R().url);
    try {
      const ref = `${proxy.host}/cairn/partial:v1`;
      await cli(a, ['pack', src, '-t', ref]);
      const pushed = await cliJson<Transfer>(a, ['push', ref]);
      const b = freshEnv();
      const seen = proxy.requests.length;
      const out = path.join(b.work, 'out');
      const r = await cli(b, ['unpack', ref, '--filter', 'datasets', '-d', out]);
      expect(r.code).toBe(0);
      expect(listFiles(out)).toEqual(['data/a.csv', 'data/b.csv']);
      const fetched = proxy.requests
        .slice(seen)
        .filter((x) => x.method === 'GET' && x.kind === 'blob')
        .map((x) => x.digest);
      const [config, model, data, docs] = pushed.blobs.map((x) => x.digest);
      expect(fetched.sort()).toEqual([config, data].sort());
      expect(fetched).not.toContain(model);
      expect(fetched).not.toContain(docs);
      const storage = path.join(b.home, 'storage');
      expect(listFiles(path.join(storage, 'blobs'))).toEqual([]);
      expect(fs.readdirSync(path.join(storage, 'ingest'))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('rm --remote deletes by digest and refuses to take other tags along unless forced', async () => {
    const a = freshEnv();
    const repo = `${R().host}/cairn/listing`;
    const shared = await cli(a, ['rm', '--remote', `${repo}:v1`]);
    expect(shared.code).toBe(1);
    expect(shared.stderr).toContain('with the tags v2');
    const one = await cliJson<{ tags: string[] }>(a, ['rm', '--remote', `${repo}:v3`]);
    expect(one.tags).toEqual(['v3']);
    const forced = await cliJson<{ tags: string[] }>(a, [
      'rm',
      '--remote',
      '--force',
      `${repo}:v1`,
    ]);
    expect(forced.tags).toEqual(['v1', 'v2']);
    const left = JSON.parse(
      (await skopeo('list-tags', '--tls-verify=false', `docker://${repo}`)).stdout,
    ) as {
      Tags: string[];
    };
    expect(left.Tags).toEqual(['image']);
  });
});

describe.skipIf(!enabled)('push and pull with credentials', () => {
  it('behind Basic and Bearer auth: 401 says cairn login, after login both work and no secret is printed', async () => {
    const { startTokenServer } = await import('./harness.js');
    const password = 'pw-Zq81-never-printed';
    const tokens = await startTokenServer({ users: { carol: password } });
    const basic = await startRegistry({ htpasswd: { carol: password } });
    const bearer = await startRegistry({ token: tokens });
    try {
      for (const r of [basic, bearer]) {
        const a = freshEnv();
        const ref = `${r.host}/cairn/secret:v1`;
        await cli(a, ['pack', kitDir(a.work, 64 * 1024, 31), '-t', ref]);
        const refused = await cli(a, ['push', ref]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`cairn login ${r.host}`);
        const outputs = [refused.stdout, refused.stderr];
        const login = await cli(a, ['login', r.host, '-u', 'carol', '-p', password]);
        expect(login.code).toBe(0);
        for (const args of [
          ['push', ref],
          ['pull', ref],
          ['list', `${r.host}/cairn/secret`],
          ['inspect', '--remote', ref],
        ]) {
          const res = await cli(a, [...args, '--json']);
          expect(res.code, res.stderr).toBe(0);
          outputs.push(res.stdout, res.stderr);
        }
        // A remote unpack from a fresh store, with the same login.
        const b = freshEnv();
        fs.mkdirSync(b.home, { recursive: true });
        fs.copyFileSync(
          path.join(a.home, 'credentials.json'),
          path.join(b.home, 'credentials.json'),
        );
        const out = path.join(b.work, 'out');
        const unpacked = await cli(b, ['unpack', ref, '-d', out, '--filter', 'model']);
        expect(unpacked.code, unpacked.stderr).toBe(0);
        outputs.push(unpacked.stdout, unpacked.stderr);
        const basicToken = Buffer.from(`carol:${password}`).toString('base64');
        for (const o of outputs) {
          expect(o).not.toContain(password);
          expect(o).not.toContain(basicToken);
        }
      }
    } finally {
      await basic.stop();
      await bearer.stop();
      await tokens.stop();
    }
  });
});

describe.skipIf(!enabled)('push and pull over TLS', () => {
  it('a private CA is trusted with --ca-file; without it the certificate is refused', async () => {
    const { makeTls, HAVE_OPENSSL } = await import('./harness.js');
    if (!HAVE_OPENSSL && process.env.CAIRN_REQUIRE_TOOLS !== '1') return;
    const tls = makeTls();
    const r = await startRegistry({ tls });
    try {
      const a = freshEnv();
      a.env = {}; // HTTPS
      const ref = `${r.host}/cairn/tls:v1`;
      await cli(a, ['pack', kitDir(a.work, 128 * 1024, 41), '-t', ref]);
      const refused = await cli(a, ['push', ref]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`https://${r.host}/v2/`);
      expect(refused.stderr).toContain('--ca-file');
      const pushed = await cliJson<Transfer>(a, ['push', ref, '--ca-file', tls.caCert]);
      const b = freshEnv();
      b.env = {};
      const pulled = await cliJson<Transfer>(b, ['pull', ref, '--tls-verify=false']);
      expect(pulled.digest).toBe(pushed.digest);
    } finally {
      await r.stop();
    }
  });
});

describe.skipIf(!enabled)('ModelKits that refer to a parent', () => {
  it('pull also pulls the ModelKit model.path names, so the child unpacks with its model', async () => {
    const a = freshEnv();
    const base = `${R().host}/cairn/base:v1`;
    const child = `${R().host}/cairn/child:v1`;
    const baseDir = kitDir(a.work, 96 * 1024, 51);
    await cli(a, ['pack', baseDir, '-t', base]);
    const childDir = path.join(a.work, 'child');
    fs.mkdirSync(path.join(childDir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(childDir, 'data', 'extra.csv'), 'z\n9\n');
    fs.writeFileSync(
      path.join(childDir, 'Kitfile'),
      `manifestVersion: 1.0.0\npackage:\n  name: child\nmodel:\n  path: ${base}\ndatasets:\n  - name: extra\n    path: data\n`,
    );
    expect((await cli(a, ['pack', childDir, '-t', child])).code).toBe(0);
    await cliJson<Transfer>(a, ['push', base]);
    await cliJson<Transfer>(a, ['push', child]);

    const b = freshEnv();
    const pulled = await cliJson<Transfer & { parents: Transfer[] }>(b, ['pull', child]);
    expect(pulled.parents.map((p) => p.reference)).toEqual([base]);
    const out = path.join(b.work, 'out');
    const r = await cli(b, [
      'unpack',
      child,
      '-d',
      out,
      '--filter',
      'model',
      '--filter',
      'datasets',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(treeDigests(out)['model.bin']).toBe(treeDigests(baseDir)['model.bin']);
    expect(fs.readFileSync(path.join(out, 'data', 'extra.csv'), 'utf8')).toBe('z\n9\n');
  });
});
