// The native scanner must see exactly what the JavaScript walker sees: same files, same order,
// same stat numbers, same fingerprints; and hand back every case it does not cover.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nativeHelpers } from './native.js';
import { scanUnit, scanUnitsFast, type ScanRequest } from './scan.js';

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

function requests(units: { dirs: string[]; files: string[] }[]): ScanRequest[] {
  return units.map((u) => ({
    repoRoot: root,
    root: path.join(root, 'data'),
    dirs: u.dirs,
    files: u.files,
    store: undefined,
    hash: false,
    legacy: false,
    fresh: false,
  }));
}

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
    write('top.txt');
    write('Zed.txt');
    for (let i = 0; i < 40; i++) write(`a/${String(i % 7)}/f${String(i)}.bin`, 'x'.repeat(i));
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
    const reqs = requests(UNITS);
    const fast = scanUnitsFast(reqs, 2);
    const slow = reqs.map(scanUnit);
    expect(fast.every((u) => u !== undefined)).toBe(true);
    for (let i = 0; i < reqs.length; i++) {
      const f = fast[i];
      const s = slow[i];
      expect(f?.rels).toEqual(s?.rels);
      expect(Array.from(f?.stats ?? [])).toEqual(Array.from(s?.stats ?? []));
      expect(f?.fingerprint).toBe(s?.fingerprint);
    }
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
});
