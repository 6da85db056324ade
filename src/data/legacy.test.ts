import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../core/config.js';
import type { Repo } from '../core/repo.js';
import { checkoutTargets } from './checkout.js';
import { looksLikeText } from './hash.js';
import { buildManifest, sortEntries } from './manifest.js';
import { dataStatus } from './status.js';
import { Workspace } from './workspace.js';

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

let root: string;
let ws: Workspace;
let cacheDir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-legacy-'));
  const cairnDir = path.join(root, '.cairn');
  fs.mkdirSync(path.join(cairnDir, 'tmp'), { recursive: true });
  const config = defaultConfig(cairnDir);
  config.core.no_scm = true;
  // A DVC 2.x repository's cache, shared as `cache.dir`.
  cacheDir = path.join(root, '.dvc', 'cache');
  config.cache.dir = cacheDir;
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

/** Puts bytes where DVC 2.x kept them: `<cache>/<2>/<30>` named by md5-dos2unix. */
function putLegacyObject(name: string, bytes: Buffer | string): void {
  const p = path.join(cacheDir, name.slice(0, 2), name.slice(2));
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes, { mode: 0o444 });
}

describe('DVC 2.x records (md5-dos2unix, no `hash: md5`)', () => {
  const crlf = 'id,label\r\n1,cat\r\n2,dog\r\n';
  const legacyMd5 = md5(crlf.replaceAll('\r\n', '\n'));

  it('uses dvc-data istextblock: NUL means binary, over 30% non-text means binary', () => {
    expect(looksLikeText(Buffer.from('plain text\r\n'))).toBe(true);
    expect(looksLikeText(Buffer.from([0x61, 0x00, 0x62]))).toBe(false);
    // exactly 30% outside the text set is still text; 40% is not
    expect(
      looksLikeText(Buffer.from([0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0xff, 0xfe, 0xfd])),
    ).toBe(true);
    expect(
      looksLikeText(Buffer.from([0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0xfc, 0xff, 0xfe, 0xfd])),
    ).toBe(false);
  });

  it('reports an unchanged CRLF file as up to date, and restores it from the legacy store', async () => {
    fs.writeFileSync(path.join(root, 'labels.csv'), crlf);
    putLegacyObject(legacyMd5, crlf);
    fs.writeFileSync(
      path.join(root, 'labels.csv.dvc'),
      `outs:\n- md5: ${legacyMd5}\n  size: ${crlf.length}\n  path: labels.csv\n`,
    );
    expect(md5(crlf)).not.toBe(legacyMd5);
    expect(await dataStatus(ws, root, [])).toEqual({});

    fs.rmSync(path.join(root, 'labels.csv'));
    expect(await dataStatus(ws, root, [])).toEqual({
      'labels.csv.dvc': [{ 'changed outs': { 'labels.csv': 'deleted' } }],
    });
    const summary = await checkoutTargets(ws, root, [], { force: false, relink: false });
    expect(summary.added).toEqual(['labels.csv']);
    expect(fs.readFileSync(path.join(root, 'labels.csv'), 'utf8')).toBe(crlf);
    expect(await dataStatus(ws, root, [])).toEqual({});
  });

  it('compares a legacy directory entry by entry', async () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'labels.csv'), crlf);
    const binary = Buffer.from([0, 1, 2, 13, 10, 3]);
    fs.writeFileSync(path.join(dir, 'blob.bin'), binary);
    const manifest = buildManifest(
      sortEntries([
        { relpath: 'labels.csv', md5: legacyMd5 },
        { relpath: 'blob.bin', md5: md5(binary) }, // binary: no CRLF conversion
      ]),
    );
    putLegacyObject(manifest.md5, manifest.bytes);
    putLegacyObject(legacyMd5, crlf);
    putLegacyObject(md5(binary), binary);
    fs.writeFileSync(path.join(root, 'data.dvc'), `outs:\n- md5: ${manifest.md5}\n  path: data\n`);
    expect(await dataStatus(ws, root, [])).toEqual({});
    fs.writeFileSync(path.join(dir, 'labels.csv'), 'id,label\r\n1,cow\r\n');
    expect(await dataStatus(ws, root, [])).toEqual({
      'data.dvc': [{ 'changed outs': { data: 'modified' } }],
    });
  });
});
