import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../core/config.js';
import { parseMd5, type Md5Hex } from '../core/digest.js';
import { CairnError } from '../core/errors.js';
import { cacheLayout, objectPath, storeBytesSync, type CacheLayout } from './cache.js';
import { buildManifest, sortEntries } from './manifest.js';
import { pullObjects, pushObjects, resolveDataRemote, type DataRemote } from './remote.js';

let dir: string;
let cache: CacheLayout;
let remote: DataRemote;

const md5 = (s: string): Md5Hex => parseMd5(createHash('md5').update(s).digest('hex')) as Md5Hex;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-remote-'));
  cache = cacheLayout(path.join(dir, 'cache'), undefined, false);
  remote = { name: 'storage', dir: path.join(dir, 'remote') };
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Regular files under a folder, relative, sorted (temp folders included, to see leftovers). */
function files(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((p) => fs.statSync(path.join(root, p)).isFile())
    .sort();
}

describe('data remotes', () => {
  it('names the remote to use, or says what is wrong with the choice', () => {
    const config = defaultConfig(path.join(dir, '.cairn'));
    expect(() => resolveDataRemote(config, undefined)).toThrow(/core.remote is not set/);
    config.remote = { storage: '/srv/dvc', cloud: 's3://bucket' };
    expect(() => resolveDataRemote(config, 'other')).toThrow(
      expect.objectContaining({ code: 'data-remote-unknown' }) as CairnError,
    );
    expect(() => resolveDataRemote(config, 'cloud')).toThrow(/local folders only/);
    config.core.remote = 'storage';
    expect(resolveDataRemote(config, undefined)).toEqual({ name: 'storage', dir: '/srv/dvc' });
  });

  it('pushes a .dir manifest with its members and a DVC 2.x object in their layouts, and pulls them back verified', async () => {
    const entries = sortEntries([
      { relpath: 'a.txt', md5: md5('a\n') },
      { relpath: 'sub/b.txt', md5: md5('b\n') },
    ]);
    const manifest = buildManifest(entries);
    storeBytesSync(cache, md5('a\n'), Buffer.from('a\n'));
    storeBytesSync(cache, md5('b\n'), Buffer.from('b\n'));
    storeBytesSync(cache, manifest.md5, manifest.bytes);
    // A DVC 2.x object: md5-dos2unix of a CRLF text file, at <dir>/xx/… (no files/md5).
    const legacy = md5('old\n');
    const legacyCache = { ...cache, legacy: true };
    fs.mkdirSync(path.dirname(objectPath(legacyCache, legacy)), { recursive: true });
    fs.writeFileSync(objectPath(legacyCache, legacy), 'old\r\n');

    const refs = [
      { md5: manifest.md5, legacy: false, where: 'features' },
      { md5: legacy, legacy: true, where: 'old.txt' },
    ];
    const pushed = await pushObjects(cache, remote, refs, { jobs: 2 });
    expect(pushed).toEqual({
      objects: 4,
      transferred: 4,
      present: 0,
      bytes: 2 + 2 + 5 + manifest.bytes.length,
    });
    const layout = (id: string, legacyObject = false): string =>
      legacyObject
        ? `${id.slice(0, 2)}/${id.slice(2)}`
        : `files/md5/${id.slice(0, 2)}/${id.slice(2)}`;
    expect(files(remote.dir)).toEqual(
      [layout(md5('a\n')), layout(md5('b\n')), layout(manifest.md5), layout(legacy, true)].sort(),
    );

    const fresh = cacheLayout(path.join(dir, 'fresh'), undefined, false);
    const pulled = await pullObjects(fresh, remote, refs, { jobs: 2 });
    expect(pulled).toMatchObject({ objects: 4, transferred: 4, present: 0 });
    expect(files(fresh.dir).filter((f) => !f.startsWith('.cairn-tmp'))).toEqual(
      files(remote.dir).filter((f) => !f.startsWith('.cairn-tmp')),
    );
    expect(fs.readFileSync(objectPath({ ...fresh, legacy: true }, legacy), 'utf8')).toBe('old\r\n');
    expect(fs.statSync(objectPath(fresh, md5('a\n'))).mode & 0o777).toBe(0o444);
  });

  it('pushes nothing when a member of a directory is missing from the cache, and names it', async () => {
    const entries = sortEntries([
      { relpath: 'a.txt', md5: md5('a\n') },
      { relpath: 'gone.txt', md5: md5('gone\n') },
    ]);
    const manifest = buildManifest(entries);
    storeBytesSync(cache, md5('a\n'), Buffer.from('a\n'));
    storeBytesSync(cache, manifest.md5, manifest.bytes);
    const error = await pushObjects(
      cache,
      remote,
      [{ md5: manifest.md5, legacy: false, where: 'features' }],
      { jobs: 4 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CairnError);
    expect((error as CairnError).message).toBe(
      `1 object missing from the cache (${cache.dir}): ${md5('gone\n')} (features/gone.txt)`,
    );
    expect(files(remote.dir)).toEqual([]);
  });
});
