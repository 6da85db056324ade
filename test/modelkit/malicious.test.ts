// Hostile ModelKits: unpack refuses every archive trick of §2.6 and item 6 of issue 4, names
// the layer digest, writes nothing outside the target and leaves no partial file behind.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { kitUnpack } from '../../src/commands/kit-unpack.js';
import type { CommandContext } from '../../src/commands/context.js';
import { sha256Of } from '../../src/oci/digest.js';
import type { LocalStore } from '../../src/oci/layout.js';
import { readManifest, resolveLocal } from '../../src/oci/local-repo.js';
import { parseReference } from '../../src/oci/reference.js';
import { readModelKit } from '../../src/modelkit/read.js';
import { unpack } from '../../src/modelkit/unpack.js';
import { paxRecord } from '../../src/modelkit/tar-header.js';
import {
  listFiles,
  makeTar,
  openTempStore,
  rawHeader,
  storeModelKit,
  tempDir,
  type TarItem,
} from './helpers.js';

const TAR = 'application/vnd.kitops.modelkit.code.v1.tar';
let home: string;
let store: LocalStore;
let work: string;
let target: string;

function ctx(): CommandContext {
  return { cwd: work, env: { CAIRN_HOME: home }, sink: () => undefined };
}

/** A one-layer ModelKit whose config carries the right digest and diffId for `tar`. */
async function hostile(
  items: TarItem[],
  o: { trailer?: boolean; path?: string } = {},
): Promise<string> {
  const bytes = makeTar(items, o.trailer ?? true);
  const d = sha256Of(bytes);
  const config = JSON.stringify({
    manifestVersion: '1.0.0',
    package: {},
    code: [{ path: o.path ?? 'src', digest: d, diffId: d }],
  });
  await storeModelKit(store, 'evil:v1', { config, layers: [{ mediaType: TAR, bytes }] });
  return d;
}

async function expectRefused(pattern: RegExp): Promise<void> {
  await expect(
    kitUnpack(ctx(), 'evil:v1', {
      dir: target,
      overwrite: false,
      ignoreExisting: false,
      filters: [],
    }),
  ).rejects.toThrow(pattern);
  expect(listFiles(target)).toEqual([]); // no file, complete or partial, under any name
  expect(fs.existsSync(path.join(work, 'evil'))).toBe(false);
}

beforeEach(async () => {
  ({ home, store } = await openTempStore());
  work = tempDir();
  target = path.join(work, 'out');
});

describe('unpack refuses hostile archives', () => {
  it('an absolute name', async () => {
    const d = await hostile([{ name: 'src', dir: true }, { raw: rawHeader('/tmp/evil', '0', 0) }]);
    await expectRefused(new RegExp(`${d}.*"/tmp/evil" is an absolute path`));
  });

  it('a name with ..', async () => {
    await hostile([{ raw: rawHeader('src/../../evil', '0', 0) }]);
    await expectRefused(/"src\/..\/..\/evil" contains \.\./);
  });

  for (const [flag, what] of [
    ['2', 'a symbolic link'],
    ['1', 'a hard link'],
    ['3', 'a character device'],
    ['4', 'a block device'],
    ['6', 'a FIFO'],
  ] as const) {
    it(what, async () => {
      await hostile([
        { name: 'src', dir: true },
        { raw: rawHeader('src/x', flag, 0, '/etc/passwd') },
      ]);
      await expectRefused(new RegExp(`"src/x" is ${what}`));
    });
  }

  it('a PAX path record that climbs out', async () => {
    const rec = Buffer.from(paxRecord('path', 'src/../../pax-evil'));
    await hostile([
      {
        raw: Buffer.concat([
          rawHeader('src/PaxHeaders.0/x', 'x', rec.length),
          rec,
          Buffer.alloc(512 - rec.length),
        ]),
      },
      { raw: rawHeader('src/innocent', '0', 0) },
    ]);
    await expectRefused(/"src\/..\/..\/pax-evil" contains \.\./);
  });

  it('a duplicate entry', async () => {
    await hostile([
      { name: 'src/a.txt', data: 'one' },
      { name: 'src/a.txt', data: 'two' },
    ]);
    await expectRefused(/"src\/a.txt" appears twice/);
  });

  it('an entry that goes through an earlier file entry', async () => {
    await hostile([
      { name: 'src', data: 'i am a file' },
      { name: 'src/inner.txt', data: 'x' },
    ]);
    await expectRefused(/lies under the earlier file "src"/);
  });

  it('an entry that goes through a symlink already in the target directory', async () => {
    fs.mkdirSync(target, { recursive: true });
    const outside = tempDir();
    fs.symlinkSync(outside, path.join(target, 'src'));
    await hostile([{ name: 'src/planted.txt', data: 'x' }]);
    await expect(
      kitUnpack(ctx(), 'evil:v1', {
        dir: target,
        overwrite: true,
        ignoreExisting: false,
        filters: [],
      }),
    ).rejects.toThrow(/is a symbolic link; refusing to write through it/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('a size that disagrees with the header (truncated data)', async () => {
    const header = rawHeader('src/big.bin', '0', 4096);
    await hostile([{ raw: Buffer.concat([header, Buffer.alloc(1000, 1)]) }], { trailer: false });
    await expectRefused(/"src\/big.bin" declares 4096 bytes but only 1000 follow/);
  });

  it('a corrupted blob in the store', async () => {
    const d = await hostile([{ name: 'src/a.txt', data: 'hello' }]);
    const blob = store.blobPath(d as never);
    const bytes = fs.readFileSync(blob);
    bytes[600] = 'j'.charCodeAt(0);
    fs.writeFileSync(blob, bytes);
    await expectRefused(new RegExp(`expected digest ${d}`));
  });

  it('a missing blob in the store', async () => {
    const d = await hostile([{ name: 'src/a.txt', data: 'hello' }]);
    fs.rmSync(store.blobPath(d as never));
    await expectRefused(new RegExp(`blob ${d} is missing`));
  });

  it('a layer whose diffId does not match its config', async () => {
    const bytes = zlib.gzipSync(makeTar([{ name: 'src/a.txt', data: 'hello' }]));
    const config = JSON.stringify({
      manifestVersion: '1.0.0',
      package: {},
      code: [{ path: 'src', digest: sha256Of(bytes), diffId: sha256Of('something else') }],
    });
    await storeModelKit(store, 'evil:v1', {
      config,
      layers: [{ mediaType: `${TAR}+gzip`, bytes }],
    });
    await expectRefused(/diffId/);
  });

  it('a gzip bomb', async () => {
    const bomb = zlib.gzipSync(
      makeTar([{ name: 'src/zeros.bin', data: Buffer.alloc(24 * 1024 * 1024) }]),
      { level: 9 },
    );
    const config = JSON.stringify({
      manifestVersion: '1.0.0',
      package: {},
      code: [{ path: 'src', digest: sha256Of(bomb) }],
    });
    await storeModelKit(store, 'evil:v1', {
      config,
      layers: [{ mediaType: `${TAR}+gzip`, bytes: bomb }],
    });
    const { ref } = parseReference('evil:v1');
    const { desc } = await resolveLocal(store, ref);
    const manifest = await readManifest(store, desc);
    const mk = await readModelKit(store, manifest, desc.digest);
    await expect(
      unpack({
        store,
        manifest,
        digest: desc.digest,
        kitfile: mk.kitfile ?? { manifestVersion: '', package: {} },
        synthesised: false,
        dir: target,
        filters: [],
        overwrite: false,
        ignoreExisting: false,
        sink: () => undefined,
        maxRatio: 100,
        directIo: true,
        minBombBytes: 1024 * 1024,
      }),
    ).rejects.toThrow(/decompression bomb/);
    expect(listFiles(target)).toEqual([]);
  });

  it('a config whose layer digest differs from the manifest', async () => {
    const bytes = makeTar([{ name: 'src/a.txt', data: 'x' }]);
    const config = JSON.stringify({
      manifestVersion: '1.0.0',
      package: {},
      code: [{ path: 'src', digest: sha256Of('other') }],
    });
    await storeModelKit(store, 'evil:v1', { config, layers: [{ mediaType: TAR, bytes }] });
    await expectRefused(/digest in config and manifest do not match/);
  });
});

describe('a damaged store', () => {
  it('a corrupted config or manifest blob: clear errors naming the digest; rm still cleans up', async () => {
    await hostile([{ name: 'src/a.txt', data: 'hello' }]);
    const { kitInfo, kitList, kitRemove } = await import('../../src/commands/kit.js');
    const { desc } = await resolveLocal(store, parseReference('evil:v1').ref);
    const manifest = await readManifest(store, desc);
    fs.writeFileSync(store.blobPath(manifest.config.digest), '{"manifestVersion":"tampered"}');
    await expect(kitInfo(ctx(), 'evil:v1', {})).rejects.toThrow(
      new RegExp(`expected digest ${manifest.config.digest}`),
    );
    const warnings: string[] = [];
    const rows = await kitList(
      {
        ...ctx(),
        sink: (e) => {
          if (e.type === 'warning') warnings.push(e.message);
        },
      },
      {},
    );
    expect(rows).toHaveLength(1);
    expect(warnings.join('\n')).toContain(manifest.config.digest);
    fs.rmSync(store.blobPath(desc.digest));
    await expect(kitInfo(ctx(), 'evil:v1', {})).rejects.toThrow(
      new RegExp(`blob ${desc.digest} is missing`),
    );
    const removed = await kitRemove(ctx(), ['evil:v1'], { force: true, all: false });
    expect(removed.manifests).toHaveLength(1);
    expect(await kitList(ctx(), {})).toEqual([]);
  });
});
