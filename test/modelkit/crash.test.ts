// Killed at any instant, pack leaves no corrupt blob or half-written index in the store, and
// unpack leaves no partial file under its final name; re-running finishes the job.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CAIRN, HAVE_BUILD, cairn, tempDir, writeTree } from './helpers.js';

async function killAfter(args: string[], cwd: string, home: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, [CAIRN, ...args], {
    cwd,
    env: { ...process.env, CAIRN_HOME: home },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await sleep(ms);
  child.kill('SIGKILL');
  await exited;
}

function blobsAreSound(storage: string): void {
  const dir = path.join(storage, 'blobs', 'sha256');
  // A kill while the store's folders are being made leaves no blobs folder yet: nothing to check.
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const hex = createHash('sha256')
      .update(fs.readFileSync(path.join(dir, name)))
      .digest('hex');
    expect(hex, `blob ${name}`).toBe(name);
  }
  for (const f of fs.readdirSync(storage).filter((n) => n.endsWith('.json'))) {
    expect(
      () => JSON.parse(fs.readFileSync(path.join(storage, f), 'utf8')) as unknown,
      f,
    ).not.toThrow();
  }
}

describe.skipIf(!HAVE_BUILD)('killed commands', () => {
  it('pack and unpack killed at several instants leave nothing corrupt behind', async () => {
    const work = tempDir();
    const home = path.join(work, 'home');
    const big = randomBytes(48 * 1024 * 1024);
    writeTree(path.join(work, 'p'), {
      Kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: big.bin\ndocs:\n  - path: README.md\n',
      'big.bin': big,
      'README.md': '# r\n',
    });
    // Early instants, each with a new home, land around the store's creation (index.json,
    // oci-layout): whatever a kill leaves there must parse.
    for (const ms of [50, 75, 100, 125, 150, 175, 200]) {
      const fresh = path.join(work, `home-${ms}`);
      await killAfter(['pack', 'p', '-t', 'crash:v1'], work, fresh, ms);
      if (fs.existsSync(path.join(fresh, 'storage'))) blobsAreSound(path.join(fresh, 'storage'));
    }
    for (const ms of [150, 300, 600]) {
      await killAfter(['pack', 'p', '-t', 'crash:v1'], work, home, ms);
      if (fs.existsSync(path.join(home, 'storage'))) blobsAreSound(path.join(home, 'storage'));
    }
    expect((await cairn(['pack', 'p', '-t', 'crash:v1'], { cwd: work, home })).code).toBe(0);
    blobsAreSound(path.join(home, 'storage'));
    expect(fs.readdirSync(path.join(home, 'storage', 'ingest'))).toEqual([]); // dead packs' temp files are gone

    const out = path.join(work, 'out');
    for (const ms of [150, 300, 600]) {
      await killAfter(['unpack', 'crash:v1', '-d', out, '-o'], work, home, ms);
      const file = path.join(out, 'big.bin');
      if (fs.existsSync(file)) expect(fs.readFileSync(file).equals(big)).toBe(true);
    }
    const r = await cairn(['unpack', 'crash:v1', '-d', out, '-o'], { cwd: work, home });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'big.bin')).equals(big)).toBe(true);
  });
});
