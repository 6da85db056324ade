// Scenarios for `cairn pack`, the store commands and `cairn unpack`, driven through the
// built CLI where the exit code and messages matter, and through the command functions
// otherwise (same code path, faster).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  kitDiff,
  kitInspect,
  kitList,
  kitPack,
  kitRemove,
  kitTag,
} from '../../src/commands/kit.js';
import { kitUnpack } from '../../src/commands/kit-unpack.js';
import type { CommandContext } from '../../src/commands/context.js';
import type { LocalStore } from '../../src/oci/layout.js';
import {
  HAVE_BUILD,
  cairn,
  listFiles,
  openTempStore,
  storeModelKit,
  tempDir,
  writeTree,
} from './helpers.js';

let home: string;
let store: LocalStore;
let work: string;
const ctx = (env: NodeJS.ProcessEnv = {}): CommandContext => ({
  cwd: work,
  env: { CAIRN_HOME: home, ...env },
  sink: () => undefined,
});
const pack = (dir: string, tags: string[], env: NodeJS.ProcessEnv = {}) =>
  kitPack(ctx(env), { dir, tags, compression: 'none' });
const unpack = (
  ref: string,
  dir: string,
  o: { overwrite?: boolean; ignoreExisting?: boolean; filters?: string[] } = {},
  env: NodeJS.ProcessEnv = {},
) =>
  kitUnpack(ctx(env), ref, {
    dir: path.join(work, dir),
    overwrite: o.overwrite ?? false,
    ignoreExisting: o.ignoreExisting ?? false,
    filters: o.filters ?? [],
  });

const BASIC = `manifestVersion: 1.0.0
package:
  name: basic
  authors: [Cairn Tests]
model:
  name: clf
  path: model.onnx
  parts:
    - name: tokenizer
      path: tok.json
code:
  - path: .
datasets:
  - name: train
    path: data
  - name: test
    path: tests.csv
docs:
  - path: README.md
`;

/** Makes `dir` a git repository with everything in it committed; answers a git runner. */
function gitRepoAt(dir: string): (...args: string[]) => string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, stdio: 'pipe', encoding: 'utf8' }).trim();
  git('init', '-q');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
  return git;
}

function basicProject(dir = 'proj'): string {
  const root = path.join(work, dir);
  writeTree(root, {
    Kitfile: BASIC,
    'model.onnx': Buffer.alloc(5000, 9),
    'tok.json': '{}',
    'train.py': 'print("train")\n',
    'data/train/a.csv': 'a\n',
    'data/test/b.csv': 'b\n',
    'data2/c.csv': 'c\n',
    'tests.csv': 't\n',
    'README.md': '# basic\n',
    '.kitignore': '*.log\nscratch\n',
    'debug.log': 'noise',
    'scratch/tmp.bin': 'tmp',
    '.DS_Store': 'junk',
  });
  return root;
}

beforeEach(async () => {
  ({ home, store } = await openTempStore());
  work = tempDir();
});

describe('pack', () => {
  it('one layer per entry, in kit order, with overlapping paths left to the inner layer', async () => {
    basicProject();
    const r = await pack('proj', ['org/basic:v1']);
    expect(r.layers.map((l) => [l.path, l.mediaType.split('.').slice(-3).join('.')])).toEqual([
      ['model.onnx', 'model.v1.tar'],
      ['tok.json', 'modelpart.v1.tar'],
      ['.', 'code.v1.tar'],
      ['data', 'dataset.v1.tar'],
      ['tests.csv', 'dataset.v1.tar'],
      ['README.md', 'docs.v1.tar'],
    ]);
    // The code layer `.` holds neither other layers' paths (string prefix: data2/ too, as kit),
    // nor ignored files, junk or the Kitfile.
    await unpack('org/basic:v1', 'code-only', { filters: ['code'] });
    expect(listFiles(path.join(work, 'code-only'))).toEqual(['train.py']);
    await unpack('org/basic:v1', 'all');
    expect(listFiles(path.join(work, 'all'))).toEqual([
      'Kitfile',
      'README.md',
      'data/test/b.csv',
      'data/train/a.csv',
      'model.onnx',
      'tests.csv',
      'tok.json',
      'train.py',
    ]);
  });

  it('is reproducible with SOURCE_DATE_EPOCH, whatever the mtimes', async () => {
    const root = basicProject();
    const a = await pack('proj', ['r:a'], { SOURCE_DATE_EPOCH: '1700000000' });
    for (const f of ['model.onnx', 'train.py', 'data/train/a.csv'])
      fs.utimesSync(path.join(root, f), 1, 2);
    const b = await pack('proj', ['r:b'], { SOURCE_DATE_EPOCH: '1700000000' });
    expect(b.digest).toBe(a.digest);
    const inspect = await kitInspect(ctx(), 'r:a', {});
    expect(inspect.manifest.annotations?.['org.opencontainers.image.created']).toBe(
      '2023-11-14T22:13:20Z',
    );
    expect(inspect.manifest.artifactType).toBe('application/vnd.kitops.modelkit.manifest.v1+json');
    expect(inspect.cliVersion).toMatch(/^cairn\//);
    await expect(pack('proj', ['r:c'], { SOURCE_DATE_EPOCH: 'soon' })).rejects.toThrow(
      /SOURCE_DATE_EPOCH is not an integer/,
    );
  });

  it('records provenance: git commit, dirty flag, dvc.lock and params digests', async () => {
    const root = basicProject();
    writeTree(root, { 'dvc.lock': 'schema: "2.0"\n', 'params.yaml': 'lr: 0.1\n' });
    const git = gitRepoAt(root);
    await pack('proj', ['p:v1']);
    const ann = (await kitInspect(ctx(), 'p:v1', {})).manifest.annotations ?? {};
    expect(ann['dev.cairn.git.commit']).toBe(git('rev-parse', 'HEAD'));
    expect(ann['dev.cairn.git.dirty']).toBe('false');
    expect(ann['dev.cairn.dvc.lock.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ann['dev.cairn.params.digest']).toMatch(/^sha256:/);
    fs.appendFileSync(path.join(root, 'train.py'), '# edit\n');
    await pack('proj', ['p:v2']);
    expect(
      (await kitInspect(ctx(), 'p:v2', {})).manifest.annotations?.['dev.cairn.git.dirty'],
    ).toBe('true');
  });

  it('records no git provenance outside git, and finds the repository above a sub-folder context', async () => {
    const root = basicProject();
    writeTree(root, { 'dvc.lock': 'schema: "2.0"\n' });
    await pack('proj', ['p:v1']);
    const outside = (await kitInspect(ctx(), 'p:v1', {})).manifest.annotations ?? {};
    expect(outside['dev.cairn.git.commit']).toBeUndefined();
    expect(outside['dev.cairn.dvc.lock.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    const top = path.dirname(root);
    const git = gitRepoAt(top);
    await pack('proj', ['p:v2']);
    const inside = (await kitInspect(ctx(), 'p:v2', {})).manifest.annotations ?? {};
    expect(inside['dev.cairn.git.commit']).toBe(git('rev-parse', 'HEAD'));
  });

  it('refuses a path outside the context (through a symlink) at Kitfile:line:col', async () => {
    const root = basicProject();
    fs.symlinkSync(tempDir(), path.join(root, 'escape'));
    fs.writeFileSync(
      path.join(root, 'Kitfile'),
      'manifestVersion: 1.0.0\ndatasets:\n  - path: escape\n',
    );
    await expect(pack('proj', ['x:v1'])).rejects.toThrow(
      /Kitfile:3:11: escape resolves to .* outside the context directory/,
    );
  });

  it('refuses a missing file at Kitfile:line:col and writes nothing to the store', async () => {
    const root = basicProject();
    fs.rmSync(path.join(root, 'tok.json'));
    await expect(pack('proj', ['x:v1'])).rejects.toThrow(
      /^proj\/Kitfile:10:13: tok.json does not exist/,
    );
    expect(await kitList(ctx(), {})).toEqual([]);
    expect(fs.readdirSync(path.join(store.root, 'blobs', 'sha256'))).toEqual([]);
    expect(fs.readdirSync(path.join(store.root, 'ingest'))).toEqual([]);
  });

  it('finds a cycle in ModelKit references', async () => {
    const cfg = (parent: string) =>
      JSON.stringify({ manifestVersion: '1.0.0', package: {}, model: { path: parent } });
    await storeModelKit(store, 'cyc/a:v1', { config: cfg('cyc/b:v1'), layers: [] });
    await storeModelKit(store, 'cyc/b:v1', { config: cfg('cyc/a:v1'), layers: [] });
    writeTree(path.join(work, 'child'), {
      Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: cyc/a:v1\n',
    });
    await expect(pack('child', ['cyc/c:v1'])).rejects.toThrow(
      /Kitfile:3:9: Found cycle in modelkit references/,
    );
  });

  it('chains a ModelKit reference: no model layer, parent paths excluded, model unpacked from the parent', async () => {
    writeTree(path.join(work, 'base'), {
      Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: base.bin\n',
      'base.bin': 'BASE',
    });
    await pack('base', ['org/base:v1']);
    writeTree(path.join(work, 'adapter'), {
      Kitfile:
        'manifestVersion: 1.0.0\nmodel:\n  path: org/base:v1\n  parts:\n    - path: lora.bin\ncode:\n  - path: .\n',
      'lora.bin': 'LORA',
      'base.bin': 'stale copy that must not be packed',
      'run.py': 'x',
    });
    const r = await pack('adapter', ['org/adapter:v1']);
    expect(r.layers.map((l) => l.path)).toEqual(['lora.bin', '.']);
    await unpack('org/adapter:v1', 'code', { filters: ['code'] });
    expect(listFiles(path.join(work, 'code'))).toEqual(['run.py']);
    await unpack('org/adapter:v1', 'model', { filters: ['model'] });
    expect(listFiles(path.join(work, 'model'))).toEqual(['base.bin', 'lora.bin']);
    expect(fs.readFileSync(path.join(work, 'model', 'base.bin'), 'utf8')).toBe('BASE');
  });
});

describe("sharing kit's store", () => {
  it('--kitops (or CAIRN_MODELKIT_STORE=kitops) uses $KITOPS_HOME/storage', async () => {
    basicProject();
    const kitHome = path.join(work, 'kitops-home');
    await kitPack(
      { cwd: work, env: { CAIRN_HOME: home, KITOPS_HOME: kitHome }, sink: () => undefined },
      { dir: 'proj', tags: ['shared:v1'], compression: 'none', kitops: true },
    );
    expect(fs.existsSync(path.join(kitHome, 'storage', 'bG9jYWxob3N0L3NoYXJlZA==-tags.json'))).toBe(
      true,
    );
    expect(await kitList(ctx(), {})).toEqual([]);
    const rows = await kitList(ctx({ KITOPS_HOME: kitHome, CAIRN_MODELKIT_STORE: 'kitops' }), {});
    expect(rows.map((r) => r.repo)).toEqual(['shared']);
  });
});

describe('a store written by kit', () => {
  it('reads index and tags files with the extra fields oras writes, and keeps them on update', async () => {
    basicProject();
    const r = await pack('proj', ['org/basic:v1']);
    // Rewrite the files as oras/kit might: mediaType on the indexes, annotations on descriptors.
    const stem = 'bG9jYWxob3N0L29yZy9iYXNpYw==';
    const desc = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: r.digest,
      size: fs.statSync(store.blobPath(r.digest)).size,
      annotations: { 'org.opencontainers.image.ref.name': 'v1' },
      artifactType: 'application/vnd.kitops.modelkit.manifest.v1+json',
    };
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [desc],
    };
    fs.writeFileSync(path.join(store.root, 'index.json'), JSON.stringify(index));
    fs.writeFileSync(path.join(store.root, `${stem}-index.json`), JSON.stringify(index));
    fs.writeFileSync(path.join(store.root, `${stem}-tags.json`), JSON.stringify({ v1: desc }));
    expect((await kitList(ctx(), {})).map((x) => x.tags)).toEqual([['v1']]);
    await kitTag(ctx(), 'org/basic:v1', 'org/basic:v2', {});
    const tags = JSON.parse(
      fs.readFileSync(path.join(store.root, `${stem}-tags.json`), 'utf8'),
    ) as Record<string, typeof desc>;
    expect(tags.v1?.annotations).toEqual(desc.annotations);
    expect(tags.v2?.digest).toBe(r.digest);
    await unpack('org/basic:v2', 'out', { filters: ['docs'] });
    expect(listFiles(path.join(work, 'out'))).toEqual(['README.md']);
  });
});

describe('unpack', () => {
  it('filters by type and id, writes the Kitfile as kit does, and respects existing files', async () => {
    basicProject();
    await pack('proj', ['org/basic:v1']);
    await unpack('org/basic:v1', 'f', { filters: ['datasets:test', 'kitfile'] });
    expect(listFiles(path.join(work, 'f'))).toEqual(['Kitfile', 'tests.csv']);
    expect(fs.readFileSync(path.join(work, 'f', 'Kitfile'), 'utf8')).toBe(BASIC);
    await expect(unpack('org/basic:v1', 'f', { filters: ['datasets:tests.csv'] })).rejects.toThrow(
      /tests.csv already exists/,
    );
    const kept = await unpack('org/basic:v1', 'f', { filters: ['datasets'], ignoreExisting: true });
    expect(kept.layers.map((l) => [l.files, l.skippedExisting])).toEqual([
      [2, 0],
      [0, 1],
    ]);
    fs.writeFileSync(path.join(work, 'f', 'tests.csv'), 'changed');
    await unpack('org/basic:v1', 'f', { filters: ['datasets:test'], overwrite: true });
    expect(fs.readFileSync(path.join(work, 'f', 'tests.csv'), 'utf8')).toBe('t\n');
    await expect(unpack('org/basic:v1', 'f', { filters: ['weights'] })).rejects.toThrow(
      /unknown type "weights"/,
    );
  });

  it('re-packing heals a truncated blob in the store', async () => {
    basicProject();
    const r = await pack('proj', ['h:v1']);
    const model = r.layers[0]?.digest ?? ('' as never);
    fs.truncateSync(store.blobPath(model), 100);
    await expect(unpack('h:v1', 'broken')).rejects.toThrow(
      new RegExp(`blob ${model} is 100 bytes`),
    );
    expect(listFiles(path.join(work, 'broken'))).toEqual([]);
    await pack('proj', ['h:v1']);
    await unpack('h:v1', 'healed');
    expect(fs.statSync(path.join(work, 'healed', 'model.onnx')).size).toBe(5000);
  });

  it('prompts are code layers with the prompt subtype, unpacked by --filter prompts', async () => {
    writeTree(path.join(work, 'pr'), {
      Kitfile:
        'manifestVersion: 1.0.0\nmodel:\n  path: m.bin\ncode:\n  - path: src\nprompts:\n  - name: system\n    path: prompts/system.md\n',
      'm.bin': 'M',
      'src/a.py': 'a',
      'prompts/system.md': 'You are helpful.',
    });
    const r = await pack('pr', ['pr:v1']);
    const manifest = (await kitInspect(ctx(), 'pr:v1', {})).manifest;
    expect(manifest.layers?.[2]?.annotations).toEqual({
      'org.cncf.model.filepath': 'prompts/system.md',
      'ml.kitops.modelkit.layer-subtype': 'prompt',
    });
    expect(r.layers[2]?.mediaType).toBe('application/vnd.kitops.modelkit.code.v1.tar');
    await unpack('pr:v1', 'p', { filters: ['prompts:system'] });
    expect(listFiles(path.join(work, 'p'))).toEqual(['prompts/system.md']);
  });

  it('large files written past the page cache match the page-cache path; a corrupted blob leaves nothing', async () => {
    // A period-251 pattern: a range copied from the wrong offset shows up as different bytes.
    const big = Buffer.alloc(40 * 1024 * 1024 + 777);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
    writeTree(path.join(work, 'lg'), {
      Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: big.bin\ndatasets:\n  - path: data\n',
      'big.bin': big,
      'data/mid.bin': big.subarray(5, 3 * 1024 * 1024),
      'data/small.txt': 'small',
    });
    const r = await pack('lg', ['lg:v1']);
    for (const direct of ['1', '0']) {
      await unpack('lg:v1', `out${direct}`, {}, { CAIRN_DIRECT_IO: direct });
      const out = path.join(work, `out${direct}`);
      expect(fs.readFileSync(path.join(out, 'big.bin')).equals(big)).toBe(true);
      expect(
        fs.readFileSync(path.join(out, 'data', 'mid.bin')).equals(big.subarray(5, 3 * 1024 * 1024)),
      ).toBe(true);
      expect(fs.readFileSync(path.join(out, 'data', 'small.txt'), 'utf8')).toBe('small');
    }
    // Same size, one byte changed deep inside the model blob: the digest check fails at the
    // end of the blob, after the file was written, and nothing is renamed into place.
    const blob = store.blobPath(r.layers[0]?.digest ?? ('' as never));
    fs.chmodSync(blob, 0o644);
    const fd = fs.openSync(blob, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 30 * 1024 * 1024);
    fs.closeSync(fd);
    await expect(unpack('lg:v1', 'bad', { filters: ['model'] })).rejects.toThrow(/digest/i);
    expect(listFiles(path.join(work, 'bad'))).toEqual([]);
  });

  it('keeps file modes', async () => {
    const root = basicProject();
    fs.chmodSync(path.join(root, 'train.py'), 0o755);
    await pack('proj', ['m:v1']);
    await unpack('m:v1', 'out');
    expect(fs.statSync(path.join(work, 'out', 'train.py')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(work, 'out', 'README.md')).mode & 0o777).toBe(0o644);
  });
});

describe('store commands', () => {
  it('list, tag, diff, and rm by tag, by digest and --all with garbage collection', async () => {
    const root = basicProject();
    const v1 = await pack('proj', ['org/basic:v1,latest']);
    fs.writeFileSync(path.join(root, 'README.md'), '# changed\n');
    const v2 = await pack('proj', ['org/basic:v2']);
    await pack('proj', []); // untagged, into localhost/_

    const rows = await kitList(ctx(), {});
    expect(rows.map((r) => [r.repo, r.tags.join(','), r.modelName, r.author])).toEqual([
      ['', '', 'basic', 'Cairn Tests'],
      ['org/basic', 'latest,v1', 'basic', 'Cairn Tests'],
      ['org/basic', 'v2', 'basic', 'Cairn Tests'],
    ]);

    await kitTag(ctx(), 'org/basic:v1', 'other/name:prod', {});
    expect((await kitList(ctx(), { repo: 'other/name' }))[0]?.digest).toBe(v1.digest);

    const diff = await kitDiff(ctx(), 'org/basic:v1', 'local://org/basic:v2', {});
    expect(diff.configEqual).toBe(false);
    expect(diff.sharedLayers).toHaveLength(5);
    expect(diff.onlyInA).toHaveLength(1);
    expect(diff.onlyInB).toHaveLength(1);

    const blobs = () => fs.readdirSync(path.join(store.root, 'blobs', 'sha256')).length;
    const before = blobs();
    // by tag: only untags while another tag points at it
    let r = await kitRemove(ctx(), ['org/basic:latest'], { force: false, all: false });
    expect(r.manifests).toEqual([]);
    // by digest: the manifest leaves org/basic, but other/name still holds it: no blob goes
    r = await kitRemove(ctx(), [`org/basic@${v1.digest}`], { force: false, all: false });
    expect(r.manifests).toHaveLength(1);
    expect(r.blobs).toEqual([]);
    r = await kitRemove(ctx(), ['other/name:prod'], { force: false, all: false });
    expect(r.blobs.length).toBeGreaterThan(0); // v1's manifest, config and old README layer
    expect(blobs()).toBe(before - r.blobs.length);
    // --all removes untagged ones only; --all --force everything
    r = await kitRemove(ctx(), [], { force: false, all: true });
    expect(r.manifests).toHaveLength(1);
    expect((await kitList(ctx(), {})).map((x) => x.digest)).toEqual([v2.digest]);
    await kitRemove(ctx(), [], { force: true, all: true });
    expect(await kitList(ctx(), {})).toEqual([]);
    expect(blobs()).toBe(0);
    expect(fs.readdirSync(store.root).sort()).toEqual([
      'blobs',
      'index.json',
      'ingest',
      'oci-layout',
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'index.json'), 'utf8'))).toEqual({
      schemaVersion: 2,
      manifests: [],
    });
  });
});

describe.skipIf(!HAVE_BUILD)('the cairn CLI', () => {
  it('pack, list --json, info, unpack and errors with exit codes', async () => {
    basicProject();
    let r = await cairn(['pack', 'proj', '-t', 'org/basic:v1'], { cwd: work, home });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Model saved: sha256:[0-9a-f]{64} as org\/basic:v1\n$/);
    r = await cairn(['list'], { cwd: work, home });
    expect(r.stdout.split('\n')[0]).toMatch(
      /^REPOSITORY\s+TAG\s+MAINTAINER\s+NAME\s+SIZE\s+DIGEST$/,
    );
    expect(r.stdout).toMatch(/org\/basic\s+v1\s+Cairn Tests\s+basic\s+\d+\.\d KiB\s+sha256:/);
    r = await cairn(['list', '--json'], { cwd: work, home });
    expect(Object.keys((JSON.parse(r.stdout) as object[])[0] ?? {})).toEqual([
      'repo',
      'digest',
      'tags',
      'modelName',
      'size',
      'author',
    ]);
    r = await cairn(['info', 'org/basic:v1', '-f', '.model.name'], { cwd: work, home });
    expect(r.stdout).toBe('clf\n');
    r = await cairn(['unpack', 'org/basic:v1', '-d', 'out', '--filter', 'model'], {
      cwd: work,
      home,
    });
    expect(r.code).toBe(0);
    expect(listFiles(path.join(work, 'out'))).toEqual(['model.onnx', 'tok.json']);

    fs.writeFileSync(
      path.join(work, 'proj', 'Kitfile'),
      'manifestVersion: 1.0.0\nmodle:\n  path: x\n',
    );
    r = await cairn(['pack', 'proj'], { cwd: work, home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: proj\/Kitfile:2:1: unknown key "modle" in Kitfile\n/);
    r = await cairn(['unpack', 'org/nothing:v9', '-d', 'x'], { cwd: work, home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/org\/nothing:v9 is not in the local store/);
    expect(fs.existsSync(path.join(work, 'x'))).toBe(false);
  });
});
