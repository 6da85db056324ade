import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../core/config.js';
import type { Repo } from '../core/repo.js';
import { objectPath } from './cache.js';
import { buildManifest, sortEntries } from './manifest.js';
import { hashOutput } from './tree.js';
import { Workspace } from './workspace.js';

let root: string;
let ws: Workspace;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tree-'));
  const cairnDir = path.join(root, '.cairn');
  fs.mkdirSync(path.join(cairnDir, 'tmp'), { recursive: true });
  const config = defaultConfig(cairnDir);
  config.core.no_scm = true;
  const repo: Repo = {
    root,
    cairnDir,
    tmpDir: path.join(cairnDir, 'tmp'),
    config,
    directIo: true,
  };
  ws = new Workspace(repo);
});
afterEach(async () => {
  await ws.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');
const anHourAgo = (): Date => new Date(Date.now() - 3600_000);

/** What DVC would compute for a directory, derived independently from the files. */
function expectedDirMd5(dir: string): string {
  const entries: { relpath: string; md5: string }[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(dir, childRel);
      if (fs.statSync(abs).isDirectory()) walk(childRel);
      else entries.push({ relpath: childRel, md5: md5(fs.readFileSync(abs)) });
    }
  };
  walk('');
  return buildManifest(sortEntries(entries)).md5;
}

describe('hashing outputs with the stat index', () => {
  it('does not read a file again while its inode, mtime and size are unchanged', async () => {
    const file = path.join(root, 'a.bin');
    fs.writeFileSync(file, 'first');
    fs.utimesSync(file, anHourAgo(), anHourAgo());
    const first = await hashOutput(ws, file, { store: false });
    expect(first.md5).toBe(md5('first'));
    // Same size, same inode, mtime put back: only a re-hash could notice, and none happens.
    const { mtime } = fs.statSync(file);
    fs.writeFileSync(file, 'FIRST');
    fs.utimesSync(file, mtime, mtime);
    expect((await hashOutput(ws, file, { store: false })).md5).toBe(md5('first'));
  });

  it('does not trust a file hashed in the same instant it was written (racy mtime)', async () => {
    const file = path.join(root, 'a.bin');
    fs.writeFileSync(file, 'first');
    await hashOutput(ws, file, { store: false });
    const { mtime } = fs.statSync(file);
    fs.writeFileSync(file, 'FIRST');
    fs.utimesSync(file, mtime, mtime);
    expect((await hashOutput(ws, file, { store: false })).md5).toBe(md5('FIRST'));
  });

  it('hashes a large file in chunks and stores exactly its bytes', async () => {
    const file = path.join(root, 'big.bin');
    const bytes = randomBytes(9 * 1024 * 1024 + 123);
    fs.writeFileSync(file, bytes);
    const info = await hashOutput(ws, file, { store: true });
    expect(info).toEqual({ kind: 'file', md5: md5(bytes), size: bytes.length });
    const stored = objectPath(ws.cache, info.md5);
    expect(fs.readFileSync(stored).equals(bytes)).toBe(true);
    expect(fs.statSync(stored).mode & 0o777).toBe(0o444);
  });

  it('gives a tree split across worker threads the same hash DVC would', async () => {
    const dir = path.join(root, 'data');
    for (let i = 0; i < 3600; i++) {
      const sub = path.join(dir, `c${i % 7}`, `d${i % 3}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `${i}.txt`), `file ${i}`);
    }
    fs.writeFileSync(path.join(dir, 'big.bin'), randomBytes(5 * 1024 * 1024));
    const expected = expectedDirMd5(dir);
    const info = await hashOutput(ws, dir, { store: true });
    expect(info.md5).toBe(expected);
    expect(info.nfiles).toBe(3601);
    // every object and the manifest landed in the cache
    expect(fs.existsSync(objectPath(ws.cache, info.md5))).toBe(true);
    expect(fs.existsSync(objectPath(ws.cache, md5('file 42')))).toBe(true);
    // unchanged: answered from the fingerprint
    expect((await hashOutput(ws, dir, { store: false })).md5).toBe(expected);
    // one file changed, one added: re-hash only those, same answer as from scratch
    fs.writeFileSync(path.join(dir, 'c1', 'd1', '1.txt'), 'changed');
    fs.writeFileSync(path.join(dir, 'c1', 'new.txt'), 'new');
    const after = await hashOutput(ws, dir, { store: true });
    expect(after.md5).toBe(expectedDirMd5(dir));
    expect(after.nfiles).toBe(3602);
  });

  it('applies .dvcignore rules while walking', async () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'keep.csv'), 'a');
    fs.writeFileSync(path.join(dir, 'scratch.log'), 'b');
    fs.writeFileSync(path.join(dir, 'tmp', 'x'), 'c');
    fs.writeFileSync(path.join(root, '.dvcignore'), '*.log\ndata/tmp/\n');
    const info = await hashOutput(ws, dir, { store: false });
    expect(info.nfiles).toBe(1);
    expect(info.md5).toBe(buildManifest([{ relpath: 'keep.csv', md5: md5('a') }]).md5);
  });

  it('names a symlink loop inside a tracked directory', async () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    fs.symlinkSync('.', path.join(dir, 'self'));
    await expect(hashOutput(ws, dir, { store: false })).rejects.toThrow(
      /loop.*data\/self|data\/self.*loop/,
    );
  });
});
