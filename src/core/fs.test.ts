import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileAtomic } from './fs.js';
import { LocalStore } from '../oci/layout.js';

const scratch = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fs-'));

describe('createFileAtomic', () => {
  it('creates a missing file whole and leaves no temp behind', async () => {
    const dir = scratch();
    expect(await createFileAtomic(path.join(dir, 'a.json'), '{"x":1}')).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')).toBe('{"x":1}');
    expect(fs.readdirSync(dir)).toEqual(['a.json']);
  });

  it('never touches a file that exists, and says it did not create it', async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'a.json'), 'kept');
    expect(await createFileAtomic(path.join(dir, 'a.json'), 'new')).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')).toBe('kept');
    expect(fs.readdirSync(dir)).toEqual(['a.json']);
  });

  it('fails with the cause when the folder is missing', async () => {
    await expect(createFileAtomic(path.join(scratch(), 'no', 'a.json'), 'x')).rejects.toThrow(
      /ENOENT/,
    );
  });
});

describe('LocalStore.open after an interrupted creation', () => {
  it('reads an empty index.json (what a kill mid-create used to leave) as no manifests', async () => {
    const root = scratch();
    fs.writeFileSync(path.join(root, 'index.json'), '');
    const store = await LocalStore.open(root);
    expect(await store.readRootIndex()).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'oci-layout'), 'utf8')).toBe(
      '{"imageLayoutVersion":"1.0.0"}',
    );
  });
});
