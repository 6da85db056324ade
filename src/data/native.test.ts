// The native scanner and first-add hasher must see exactly what the JavaScript walker sees:
// same files, same order, same stat numbers, same fingerprints, same md5s and cache objects;
// and hand back every case they do not cover.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cacheLayout,
  objectPath,
  prepareFreshCache,
  storeBytesSync,
  tempDir,
  type CacheLayout,
} from './cache.js';
import { nativeHelpers } from './native.js';
import {
  hashUnitsFast,
  scanUnit,
  scanUnitsFast,
  type DeclinedUnit,
  type ScannedUnit,
  type ScanRequest,
} from './scan.js';

const required = process.env.CAIRN_REQUIRE_TOOLS === '1';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-native-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function write(rel: string, text = rel): void {
  const abs = path.join(root, 'data', rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
}

function requests(
  units: { dirs: string[]; files: string[] }[],
  hashing?: { store: CacheLayout | undefined; fresh: boolean },
): ScanRequest[] {
  return units.map((u) => ({
    repoRoot: root,
    root: path.join(root, 'data'),
    dirs: u.dirs,
    files: u.files,
    store: hashing?.store,
    hash: hashing !== undefined,
    legacy: false,
    fresh: hashing?.fresh ?? false,
  }));
}

/** A tree with nested folders, non-ASCII names, tool folders, duplicates and an empty file. */
function writeMixedTree(): void {
  write('top.txt');
  write('Zed.txt');
  for (let i = 0; i < 40; i++) write(`a/${String(i % 7)}/f${String(i)}.bin`, 'x'.repeat(i % 9));
  write('a/é-accent.txt');
  write('a/日本語.txt');
  write('a/.hidden');
  write('a/.git/config'); // tool folders are never data, wherever they are
  write('b/.dvc/cache/x');
  write('b/A/B/C/deep.txt');
  write('c/exec.sh');
  fs.chmodSync(path.join(root, 'data', 'c', 'exec.sh'), 0o755);
  fs.mkdirSync(path.join(root, 'data', 'c', 'empty'));
  execFileSync('mkfifo', [path.join(root, 'data', 'fifo')]); // not data: skipped by both
}

/** Every object of a cache: name, mode and bytes. */
function objectsOf(cache: CacheLayout): Record<string, string> {
  const base = path.join(cache.dir, 'files', 'md5');
  const found: Record<string, string> = {};
  if (!fs.existsSync(base)) return found;
  for (const prefix of fs.readdirSync(base)) {
    for (const name of fs.readdirSync(path.join(base, prefix))) {
      const p = path.join(base, prefix, name);
      const mode = (fs.statSync(p).mode & 0o7777).toString(8);
      found[`${prefix}${name}`] = `${mode} ${fs.readFileSync(p).toString('base64')}`;
    }
  }
  return found;
}

function cacheIn(name: string, shared?: 'group'): CacheLayout {
  return cacheLayout(path.join(root, name), shared, true);
}

function scanned(units: (ScannedUnit | DeclinedUnit)[] | undefined): ScannedUnit[] {
  expect(units).toBeDefined();
  return (units ?? []).map((u) => {
    if ('declined' in u) throw new Error('a unit was declined');
    return u;
  });
}

/** Walks `units` with scanUnit into one cache and natively into another; both must agree. */
/** The native result lists the same files, stats and fingerprint (and md5s) as scan.ts's. */
function expectSameScans(
  fast: readonly (ScannedUnit | undefined)[],
  slow: readonly ScannedUnit[],
  o: { md5s: boolean },
): void {
  expect(fast).toHaveLength(slow.length);
  slow.forEach((s, i) => {
    const f = fast[i];
    expect(f?.rels).toEqual(s.rels);
    expect(Array.from(f?.stats ?? [])).toEqual(Array.from(s.stats));
    expect(f?.fingerprint).toBe(s.fingerprint);
    if (o.md5s) expect(f?.md5s).toEqual(s.md5s);
  });
}

async function expectSameFirstAdd(
  units: { dirs: string[]; files: string[] }[],
  caches: { js: CacheLayout; native: CacheLayout; fresh: boolean },
): Promise<ScannedUnit[]> {
  const slow = requests(units, { store: caches.js, fresh: caches.fresh }).map(scanUnit);
  const reported: ScannedUnit[] = [];
  const fast = scanned(
    await hashUnitsFast(requests(units, { store: caches.native, fresh: caches.fresh }), 2, (u) =>
      reported.push(u),
    ),
  );
  expect(reported).toHaveLength(units.length);
  expectSameScans(fast, slow, { md5s: true });
  const stored = (us: ScannedUnit[]): string[] => us.flatMap((u) => u.stored).sort();
  expect(stored(fast)).toEqual(stored(slow));
  expect(objectsOf(caches.native)).toEqual(objectsOf(caches.js));
  return fast;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

const UNITS = [
  { dirs: [], files: ['top.txt', 'Zed.txt', 'fifo'] },
  { dirs: ['a'], files: [] },
  { dirs: ['b', 'c'], files: [] },
];

describe.skipIf(nativeHelpers() === undefined && !required)('the native scanner', () => {
  it('is built (CI requires it)', () => {
    expect(nativeHelpers()).toBeDefined();
  });

  it('lists the same files in the same order, with the same stats and fingerprints as scan.ts', () => {
    writeMixedTree();
    const reqs = requests(UNITS);
    const fast = scanUnitsFast(reqs, 2);
    const slow = reqs.map(scanUnit);
    expect(fast.every((u) => u !== undefined)).toBe(true);
    expectSameScans(fast, slow, { md5s: false });
    expect(slow[1]?.rels).toContain('a/日本語.txt');
    expect(slow[1]?.rels.some((r) => r.includes('.git'))).toBe(false);
  });

  it('hands back units with links, .dvcignore files or names it cannot order as JavaScript does', () => {
    write('top.txt');
    write('Zed.txt');
    write('a/x.txt');
    fs.symlinkSync('x.txt', path.join(root, 'data', 'a', 'link'));
    write('b/.dvcignore', '*.tmp\n');
    write('b/y.tmp');
    write('c/😀.txt');
    write('c/\uFFFD.txt');
    fs.writeFileSync(path.join(root, 'data', 'fifo'), '');
    const fast = scanUnitsFast(requests(UNITS), 2);
    expect(fast.map((u) => u === undefined)).toEqual([false, true, true]);
  });

  it('leaves the whole tree to scan.ts when a .dvcignore above it has rules', () => {
    write('top.txt');
    fs.writeFileSync(path.join(root, '.dvcignore'), 'data/top.txt\n');
    const fast = scanUnitsFast(requests([{ dirs: [''], files: [] }]), 2);
    expect(fast).toEqual([undefined]);
  });

  it('leaves the tree to scan.ts when a .dvcignore between the root and a unit has rules', async () => {
    write('b/x/kept.txt');
    write('b/x/skip.tmp');
    write('b/.dvcignore', '*.tmp\n');
    const units = [{ dirs: ['b/x'], files: [] }];
    expect(scanUnitsFast(requests(units), 2)).toEqual([undefined]);
    const store = cacheIn('cache');
    expect(await hashUnitsFast(requests(units, { store, fresh: false }), 2, () => {})).toBe(
      undefined,
    );
    expect(objectsOf(store)).toEqual({});
  });
});

describe.skipIf(nativeHelpers() === undefined && !required)('the native first add', () => {
  it('hashes and stores what scanUnit does, into a fresh cache', async () => {
    writeMixedTree();
    const js = cacheIn('js');
    const native = cacheIn('native');
    expect(prepareFreshCache(js)).toBe(true);
    expect(prepareFreshCache(native)).toBe(true);
    const fast = await expectSameFirstAdd(UNITS, { js, native, fresh: true });
    expect(fast[1]?.md5s).toContain(md5('a/日本語.txt'));
    expect(Object.keys(objectsOf(native))).toContain(md5(''));
  });

  it('stores only missing objects in a cache that holds some, making prefix folders', async () => {
    writeMixedTree();
    const js = cacheIn('js', 'group');
    const native = cacheIn('native', 'group');
    const held = [md5('top.txt'), md5('xxxx')];
    for (const cache of [js, native]) {
      storeBytesSync(cache, md5('top.txt'), Buffer.from('top.txt'));
      storeBytesSync(cache, md5('xxxx'), Buffer.from('xxxx'));
    }
    const inodes = held.map((m) => fs.statSync(objectPath(native, m)).ino);
    const fast = await expectSameFirstAdd(UNITS, { js, native, fresh: false });
    const stored = fast.flatMap((u) => u.stored);
    expect(stored).not.toContain(held[0]);
    expect(stored).not.toContain(held[1]);
    expect(stored).toContain(md5('Zed.txt'));
    expect(held.map((m) => fs.statSync(objectPath(native, m)).ino)).toEqual(inodes);
    // the objects are the group's to read, and only whole objects are left in the cache
    expect(objectsOf(native)[md5('Zed.txt')]?.split(' ')[0]).toMatch(/^6[46]4$/);
    expect(fs.readdirSync(tempDir(native))).toEqual([]);
  });

  it('stores through named temps in .cairn-tmp where O_TMPFILE is not used', async () => {
    writeMixedTree();
    const js = cacheIn('js');
    const native = cacheIn('native');
    const slow = requests(UNITS, { store: js, fresh: false }).map(scanUnit);
    const helpers = nativeHelpers();
    if (helpers === undefined) throw new Error('the native helpers are not built');
    const results = await Promise.all(
      UNITS.map((u) =>
        helpers.hashUnit(path.join(root, 'data'), u.dirs, u.files, {
          base: path.join(native.dir, 'files', 'md5'),
          tempDir: tempDir(native),
          fileMode: native.fileMode,
          dirMode: native.dirMode,
          fresh: false,
          tmpfile: false,
        }),
      ),
    );
    expect(results.every((r) => r[0] !== null)).toBe(true);
    const stored = results.flatMap((r) => r[3].toString('latin1').match(/.{32}/g) ?? []);
    expect(stored.sort()).toEqual(slow.flatMap((u) => u.stored).sort());
    expect(objectsOf(native)).toEqual(objectsOf(js));
    expect(fs.readdirSync(tempDir(native))).toEqual([]);
  });

  it('leaves files over 4 MiB to the caller, unread and unstored', async () => {
    const MiB = 1024 * 1024;
    write('exactly-4MiB.bin', 'a'.repeat(4 * MiB));
    write('over-4MiB.bin', 'b'.repeat(4 * MiB + 1));
    write('small.txt');
    const units = [{ dirs: [''], files: [] }];
    const js = cacheIn('js');
    const native = cacheIn('native');
    const [unit] = await expectSameFirstAdd(units, { js, native, fresh: false });
    expect(unit?.md5s).toEqual([md5('a'.repeat(4 * MiB)), '', md5('small.txt')]);
    expect(Object.keys(objectsOf(native))).not.toContain(md5('b'.repeat(4 * MiB + 1)));
  });

  it('declines what the scanner declines, reporting the objects it stored first', async () => {
    write('top.txt');
    write('Zed.txt');
    write('a/a.txt'); // sorts before the link: stored before the unit is declined
    fs.symlinkSync('a.txt', path.join(root, 'data', 'a', 'link'));
    write('b/.dvcignore', '*.tmp\n');
    write('b/y.tmp');
    write('c/😀.txt');
    fs.writeFileSync(path.join(root, 'data', 'fifo'), '');
    const store = cacheIn('cache');
    const fast = await hashUnitsFast(requests(UNITS, { store, fresh: false }), 2, () => {});
    expect(fast?.map((u) => 'declined' in u)).toEqual([false, true, true]);
    expect(fast?.[1]).toEqual({ declined: true, stored: [md5('a/a.txt')] });
    expect(fast?.[2]).toEqual({ declined: true, stored: [] });
    expect(fs.existsSync(objectPath(store, md5('a/a.txt')))).toBe(true);
  });
});
