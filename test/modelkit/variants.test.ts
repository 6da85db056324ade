// Reading every ModelKit variant kit has written (§2.3–§2.7): compressed layers, raw layers,
// legacy layers without layer info, manifests without artifactType, "layers":null, and CNCF
// ModelPack artifacts with the Kitfile in an annotation or none at all.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { kitInfo, kitList, kitPack } from '../../src/commands/kit.js';
import { kitUnpack } from '../../src/commands/kit-unpack.js';
import type { CommandContext } from '../../src/commands/context.js';
import { sha256Of } from '../../src/oci/digest.js';
import type { LocalStore } from '../../src/oci/layout.js';
import { MODELPACK_ARTIFACT_TYPE, MODELPACK_CONFIG_TYPE } from '../../src/oci/media-types.js';
import { listFiles, makeTar, openTempStore, storeModelKit, tempDir, writeTree } from './helpers.js';

let home: string;
let store: LocalStore;
let work: string;

const ctx = (): CommandContext => ({ cwd: work, env: { CAIRN_HOME: home }, sink: () => undefined });
const unpackTo = (ref: string, dir: string, filters: string[] = []) =>
  kitUnpack(ctx(), ref, {
    dir: path.join(work, dir),
    overwrite: false,
    ignoreExisting: false,
    filters,
  });

beforeEach(async () => {
  ({ home, store } = await openTempStore());
  work = tempDir();
});

describe('compressed layers round-trip', () => {
  for (const compression of ['gzip', 'gzip-fastest', 'zstd'] as const) {
    it(`--compression ${compression}`, async () => {
      writeTree(path.join(work, 'ctx'), {
        Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: w.bin\ndatasets:\n  - path: data\n',
        'w.bin': Buffer.alloc(300_000, 3),
        'data/a.csv': 'a\n1\n',
      });
      const r = await kitPack(ctx(), { dir: 'ctx', tags: ['c:v1'], compression });
      const suffix = compression === 'zstd' ? '+zstd' : '+gzip';
      expect(r.layers.map((l) => l.mediaType)).toEqual([
        `application/vnd.kitops.modelkit.model.v1.tar${suffix}`,
        `application/vnd.kitops.modelkit.dataset.v1.tar${suffix}`,
      ]);
      const first = fs.readFileSync(store.blobPath(r.layers[0]?.digest as never)).subarray(0, 4);
      expect(first.toString('hex')).toMatch(compression === 'zstd' ? /^28b52ffd/ : /^1f8b08/);
      await unpackTo('c:v1', 'out');
      expect(
        fs.readFileSync(path.join(work, 'out', 'w.bin')).equals(Buffer.alloc(300_000, 3)),
      ).toBe(true);
      expect(fs.readFileSync(path.join(work, 'out', 'data', 'a.csv'), 'utf8')).toBe('a\n1\n');
    });
  }
});

describe('raw layers (--layer-format raw)', () => {
  it('store each file as it is, with file metadata, and unpack to the entry path', async () => {
    writeTree(path.join(work, 'ctx'), {
      Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: w/model.gguf\ndocs:\n  - path: README.md\n',
      'w/model.gguf': Buffer.alloc(5_000_000, 7),
      'README.md': '# raw\n',
    });
    const r = await kitPack(ctx(), {
      dir: 'ctx',
      tags: ['raw:v2'],
      compression: 'none',
      layerFormat: 'raw',
    });
    expect(r.layers.map((l) => [l.mediaType, l.digest])).toEqual([
      ['application/vnd.kitops.modelkit.model.v1.raw', sha256Of(Buffer.alloc(5_000_000, 7))],
      ['application/vnd.kitops.modelkit.docs.v1.raw', sha256Of('# raw\n')],
    ]);
    await unpackTo('raw:v2', 'out');
    expect(listFiles(path.join(work, 'out'))).toEqual(['Kitfile', 'README.md', 'w/model.gguf']);
    writeTree(path.join(work, 'ctx'), { Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: w\n' });
    await expect(
      kitPack(ctx(), { dir: 'ctx', tags: ['raw:v3'], compression: 'none', layerFormat: 'raw' }),
    ).rejects.toThrow(/Kitfile:3:9: w is not a regular file/);
  });
});

describe('older and foreign ModelKits', () => {
  it('legacy (pre-0.5) layers: no layer info, contents relative to the path', async () => {
    const model = makeTar([{ name: 'weights.bin', data: 'W' }]);
    const data = makeTar([
      { name: 'data', dir: true },
      { name: 'data/x.csv', data: 'X' },
    ]);
    const config = JSON.stringify({
      manifestVersion: '',
      package: { name: 'old' },
      model: { path: 'models/weights.bin' },
      datasets: [{ path: 'data' }],
    });
    await storeModelKit(store, 'old:v1', {
      config,
      artifactType: null,
      layers: [
        { mediaType: 'application/vnd.kitops.modelkit.model.v1.tar', bytes: model },
        {
          mediaType: 'application/vnd.kitops.modelkit.dataset.v1.tar+gzip',
          bytes: zlib.gzipSync(data),
        },
      ],
    });
    await unpackTo('old:v1', 'out');
    expect(listFiles(path.join(work, 'out'))).toEqual([
      'Kitfile',
      'data/x.csv',
      'models/weights.bin',
    ]);
    const rows = await kitList(ctx(), {});
    expect(rows[0]?.modelName).toBe('old');
  });

  it('"layers":null (a Kitfile-only ModelKit)', async () => {
    await storeModelKit(store, 'empty:v1', {
      config: '{"manifestVersion":"1.0.0","package":{"name":"e"}}',
      layers: [],
      layersNull: true,
    });
    const r = await unpackTo('empty:v1', 'out');
    expect(r.layers).toEqual([]);
    expect(fs.readFileSync(path.join(work, 'out', 'Kitfile'), 'utf8')).toBe(
      'manifestVersion: 1.0.0\npackage:\n  name: e\n',
    );
  });

  it('raw layers go to the entry path', async () => {
    const bytes = Buffer.from('raw weights');
    const d = sha256Of(bytes);
    await storeModelKit(store, 'raw:v1', {
      config: JSON.stringify({
        manifestVersion: '1.0.0',
        package: {},
        model: { path: 'm/w.gguf', digest: d, diffId: d },
      }),
      layers: [
        {
          mediaType: 'application/vnd.kitops.modelkit.model.v1.raw',
          bytes,
          annotations: { 'org.cncf.model.filepath': 'm/w.gguf' },
        },
      ],
    });
    await unpackTo('raw:v1', 'out');
    expect(fs.readFileSync(path.join(work, 'out', 'm', 'w.gguf'), 'utf8')).toBe('raw weights');
  });

  it('a ModelPack with the Kitfile in the ml.kitops.modelkit.kitfile annotation', async () => {
    const tar = makeTar([{ name: 'model.safetensors', data: 'S' }]);
    const d = sha256Of(tar);
    await storeModelKit(store, 'mp:v1', {
      config: JSON.stringify({
        descriptor: { name: 'mp' },
        modelfs: { type: 'layers', diffIds: [d] },
        config: {},
      }),
      configMediaType: MODELPACK_CONFIG_TYPE,
      artifactType: MODELPACK_ARTIFACT_TYPE,
      annotations: {
        'ml.kitops.modelkit.kitfile': JSON.stringify({
          manifestVersion: '1.0.0',
          package: { name: 'from-annotation' },
          model: { path: 'model.safetensors', digest: d, diffId: d },
        }),
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.model.weight.v1.tar',
          bytes: tar,
          annotations: { 'org.cncf.model.filepath': 'model.safetensors' },
        },
      ],
    });
    const info = await kitInfo(ctx(), 'mp:v1', { filter: '.package.name' });
    expect(info.field?.value).toBe('from-annotation');
    await unpackTo('mp:v1', 'out');
    expect(listFiles(path.join(work, 'out'))).toEqual(['Kitfile', 'model.safetensors']);
  });

  it('a foreign ModelPack without a Kitfile: synthesised from file paths', async () => {
    const w1 = Buffer.from('raw-one');
    const w2 = makeTar([
      { name: 'shards', dir: true },
      { name: 'shards/2.bin', data: 'two' },
    ]);
    const doc = zlib.gzipSync(makeTar([{ name: 'README.md', data: '# hi' }]));
    await storeModelKit(store, 'foreign:v1', {
      config: JSON.stringify({
        descriptor: { name: 'foreign' },
        modelfs: {
          type: 'layers',
          diffIds: [
            sha256Of(w1),
            sha256Of(w2),
            sha256Of(makeTar([{ name: 'README.md', data: '# hi' }])),
          ],
        },
      }),
      configMediaType: MODELPACK_CONFIG_TYPE,
      artifactType: MODELPACK_ARTIFACT_TYPE,
      layers: [
        {
          mediaType: 'application/vnd.cncf.model.weight.v1.raw',
          bytes: w1,
          annotations: { 'org.cncf.model.filepath': 'one.bin' },
        },
        {
          mediaType: 'application/vnd.cncf.model.weight.v1.tar',
          bytes: w2,
          annotations: { 'org.cncf.model.filepath': 'shards' },
        },
        {
          mediaType: 'application/vnd.cncf.model.doc.v1.tar+gzip',
          bytes: doc,
          annotations: { 'org.cncf.model.filepath': 'README.md' },
        },
      ],
    });
    await unpackTo('foreign:v1', 'out');
    expect(listFiles(path.join(work, 'out'))).toEqual([
      'Kitfile',
      'README.md',
      'one.bin',
      'shards/2.bin',
    ]);
    const kitfile = fs.readFileSync(path.join(work, 'out', 'Kitfile'), 'utf8');
    expect(kitfile).toContain('path: one.bin');
    expect(kitfile).toContain('parts:\n    - path: shards');
  });

  it('a ModelPack layer without a file path is a clear error', async () => {
    await storeModelKit(store, 'bad:v1', {
      config: '{}',
      configMediaType: MODELPACK_CONFIG_TYPE,
      artifactType: MODELPACK_ARTIFACT_TYPE,
      layers: [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', bytes: Buffer.from('x') }],
    });
    await expect(unpackTo('bad:v1', 'out')).rejects.toThrow(
      /has no org.cncf.model.filepath annotation/,
    );
  });

  it('an artifact that is not a ModelKit is refused', async () => {
    await storeModelKit(store, 'img:v1', {
      config: '{}',
      configMediaType: 'application/vnd.oci.image.config.v1+json',
      artifactType: null,
      layers: [],
    });
    await expect(unpackTo('img:v1', 'out')).rejects.toThrow(/is not a ModelKit/);
  });
});
