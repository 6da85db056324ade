// Golden vectors for the byte-compatibility promises of KitOps §2.5 and §2.2: Cairn's tar
// layers, tar headers and config JSON against the same things built by Go's standard library.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KitIgnore } from '../../src/modelkit/kitignore.js';
import { createLayerSink } from '../../src/modelkit/layer-sink.js';
import { walkLayer } from '../../src/modelkit/layer-walk.js';
import { encodeHeader, writeSimpleHeader } from '../../src/modelkit/tar-header.js';
import { writeTar } from '../../src/modelkit/tar-writer.js';
import { kitfileToConfigJson } from '../../src/modelkit/kitfile.js';
import { parseKitfile } from '../../src/modelkit/kitfile-parse.js';
import { HAVE_GO, goConfig, goHeaders, goLayer } from './golden-go.js';
import { kitPack } from '../../src/commands/kit.js';
import { openTempStore } from './helpers.js';

let ctx: string;

async function cairnLayer(layerPath: string, excluded: string[] = [], direct = true) {
  const entries = await walkLayer({
    contextDir: ctx,
    layerPath,
    excluded,
    ignore: new KitIgnore([]),
    warn: () => undefined,
  });
  const out = path.join(ctx, '..', `layer-${Math.random()}.tar`);
  const fh = await fsp.open(out, 'w');
  try {
    const sink = await createLayerSink(fh, out, 'none', direct);
    await writeTar(entries, sink);
    return await sink.finish();
  } finally {
    await fh.close();
    await fsp.rm(out, { force: true });
  }
}

function write(rel: string, content: string | Buffer, mode = 0o644): void {
  const abs = path.join(ctx, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  fs.chmodSync(abs, mode);
}

describe.skipIf(!HAVE_GO)('tar layers are byte-identical to Go archive/tar (§2.5)', () => {
  beforeAll(() => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-golden-ctx-'));
    ctx = path.join(root, 'ctx');
    fs.mkdirSync(ctx);
    write('model/weights.bin', Buffer.alloc(70_000, 7));
    write('model/sub/config.json', '{"a":1}\n');
    write('model/run.sh', '#!/bin/sh\necho hi\n', 0o755);
    write('data/train.csv', 'a,b\n1,2\n');
    write('data2/other.csv', 'x\n');
    write('data.txt', 'not data dir\n');
    write('docs/README.md', '# readme\n');
    write('empty.bin', '');
    write(`deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name.txt`, 'split prefix\n');
    write(`deep/${'x'.repeat(120)}/${'y'.repeat(110)}.txt`, 'needs pax\n');
    write('unicode/ünïcödé-名前.bin', 'non-ascii\n');
    // many read chunks (4 MiB), its length not a multiple of one nor of a disk sector
    // (a pattern with period 251, so a chunk copied to the wrong offset changes the digest)
    const big = Buffer.alloc(33 * 1024 * 1024 + 12_345);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    write('big/sparse.bin', big);
    fs.mkdirSync(path.join(ctx, 'emptydir'));
    fs.chmodSync(path.join(ctx, 'model'), 0o750);
    fs.symlinkSync('model/run.sh', path.join(ctx, 'link.sh'));
  });
  afterAll(() => {
    fs.rmSync(path.dirname(ctx), { recursive: true, force: true });
  });

  const cases: [string, string, string[]][] = [
    ['a single file in nested directories (ancestors first)', 'model/sub/config.json', []],
    ['a directory with its subtree', 'model', []],
    ['the whole context, leaving out other layers by string prefix', '.', ['data', 'docs']],
    ['long names: USTAR prefix split and PAX path records', 'deep', []],
    ['non-ASCII names (PAX path, ASCII-only name field)', 'unicode', []],
    ['an empty file', 'empty.bin', []],
    ['a file larger than the read chunk', 'big', []],
  ];
  for (const [what, layerPath, excluded] of cases) {
    it(what, async () => {
      const go = goLayer(ctx, layerPath, excluded);
      const ours = await cairnLayer(layerPath, excluded);
      expect(ours.diffId).toBe(`sha256:${go.sha256}`);
      expect(ours.size).toBe(go.size);
      // Large files are written past the page cache (O_DIRECT) where the file system allows;
      // the page-cache path must give the same bytes.
      const plain = await cairnLayer(layerPath, excluded, false);
      expect(plain.diffId).toBe(`sha256:${go.sha256}`);
    });
  }

  it('headers for sizes of 8 GiB and more carry a PAX size record, like Go', () => {
    const specs = [
      { name: 'w.bin', type: 'file' as const, mode: 0o644, size: 8 * 1024 ** 3 - 1 },
      { name: 'w.bin', type: 'file' as const, mode: 0o644, size: 8 * 1024 ** 3 },
      { name: 'models/ü.bin', type: 'file' as const, mode: 0o600, size: 20 * 1024 ** 3 },
      { name: 'a'.repeat(101), type: 'file' as const, mode: 0o644, size: 1 },
      { name: `${'p'.repeat(150)}/${'n'.repeat(99)}`, type: 'dir' as const, mode: 0o755, size: 0 },
      { name: 'setuid', type: 'file' as const, mode: 0o4755, size: 3 },
      { name: 'x'.repeat(100), type: 'file' as const, mode: 0o644, size: 0 },
      { name: 'plain/dir', type: 'dir' as const, mode: 0o755, size: 0 },
    ];
    const go = goHeaders(specs);
    specs.forEach((s, i) => {
      expect(encodeHeader(s).toString('hex'), s.name).toBe(go[i]?.toString('hex'));
      const inPlace = Buffer.alloc(512, 0xee);
      if (writeSimpleHeader(inPlace, 0, s)) {
        expect(inPlace.toString('hex'), `${s.name} in place`).toBe(go[i]?.toString('hex'));
      }
    });
  });

  it('the config blob is Go encoding/json of the Kitfile structs (§2.2)', () => {
    const parsed = parseKitfile(
      'Kitfile',
      `manifestVersion: 1.0.0
package:
  name: demo <&> "quoted"
  authors: [Ann, Bob]
model:
  name: m
  path: model
  parts:
    - path: model/sub/config.json
      type: config
  parameters:
    zeta: 1
    alpha: [1.5, 2e-7, 1e21, "x\\u2028y"]
    nested: {b: true, a: null}
code:
  - path: src
datasets:
  - name: train
    path: data
    parameters: {rows: 100}
docs:
  - path: ""
    description: the whole thing
`,
    );
    const ours = kitfileToConfigJson(parsed.kitfile);
    const plain = JSON.stringify(parsed.kitfile, (_k, v: unknown) =>
      typeof v === 'bigint' ? Number(v) : v,
    );
    expect(ours).toBe(goConfig(plain));
    expect(ours).toContain('\\u003c\\u0026\\u003e');
    expect(ours).toContain('"package":{"name"');
  });

  it('a packed ModelKit: every layer digest and the config blob match Go', async () => {
    const { home, store } = await openTempStore();
    fs.writeFileSync(
      path.join(ctx, 'Kitfile'),
      'manifestVersion: 1.0.0\npackage: {name: golden}\nmodel:\n  path: model\n  parameters: {lr: 0.001, epochs: 10}\ncode:\n  - path: .\ndatasets:\n  - {name: d, path: data}\ndocs:\n  - path: docs/README.md\n',
    );
    const r = await kitPack(
      { cwd: ctx, env: { CAIRN_HOME: home }, sink: () => undefined },
      { dir: '.', tags: ['g:v1'], compression: 'none' },
    );
    const all = ['model', '.', 'data', 'docs/README.md'];
    for (const l of r.layers) {
      // kit always leaves the root Kitfile out of layers
      const others = [...all.filter((p) => p !== l.path && !l.path.startsWith(p)), 'Kitfile'];
      expect(l.digest, l.path).toBe(`sha256:${goLayer(ctx, l.path, others).sha256}`);
    }
    const manifest = JSON.parse(fs.readFileSync(store.blobPath(r.digest), 'utf8')) as {
      config: { digest: string };
    };
    const config = fs.readFileSync(
      path.join(store.root, 'blobs', 'sha256', manifest.config.digest.slice(7)),
      'utf8',
    );
    expect(goConfig(config)).toBe(config);
    expect(config).toContain(
      '"model":{"path":"model","parameters":{"epochs":10,"lr":0.001},"digest":"sha256:',
    );
    fs.rmSync(path.join(ctx, 'Kitfile'));
  });
});
