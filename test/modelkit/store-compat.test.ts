// The local store is a valid OCI image layout that independent tools read: skopeo copies a
// ModelKit out of it (verifying every blob digest), oci-image-tool validates its indexes and
// manifest against the OCI schemas, and GNU tar lists Cairn's layers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kitPack } from '../../src/commands/kit.js';
import { openTempStore, tempDir, writeTree } from './helpers.js';

/**
 * False only when the tool is missing and CI did not ask for every tool (CAIRN_REQUIRE_TOOLS).
 * oci-image-tool is optional even then until scripts/test-deps.sh installs it.
 */
const have = (tool: string): boolean => {
  if (process.env.CAIRN_REQUIRE_TOOLS === '1' && tool !== 'oci-image-tool') return true;
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function packedStore() {
  const { home, store } = await openTempStore();
  const work = tempDir();
  writeTree(path.join(work, 'p'), {
    Kitfile:
      'manifestVersion: 1.0.0\npackage: {name: compat}\nmodel: {path: m.bin}\ndocs: [{path: README.md}]\n',
    'm.bin': Buffer.alloc(70_000, 5),
    'README.md': '# compat\n',
  });
  const r = await kitPack(
    { cwd: work, env: { CAIRN_HOME: home }, sink: () => undefined },
    { dir: 'p', tags: ['org/compat:v1'], compression: 'none' },
  );
  return { store, work, r };
}

describe.skipIf(!have('skopeo'))('skopeo', () => {
  it('copies the ModelKit out of the store with identical manifest and blobs', async () => {
    const { store, work, r } = await packedStore();
    const out = path.join(work, 'copy');
    execFileSync('skopeo', ['copy', '--quiet', `oci:${store.root}`, `dir:${out}`], {
      stdio: 'pipe',
    });
    expect(
      fs
        .readFileSync(path.join(out, 'manifest.json'))
        .equals(fs.readFileSync(store.blobPath(r.digest))),
    ).toBe(true);
    for (const l of r.layers) {
      expect(
        fs
          .readFileSync(path.join(out, l.digest.slice(7)))
          .equals(fs.readFileSync(store.blobPath(l.digest))),
      ).toBe(true);
    }
  });
});

describe.skipIf(!have('oci-image-tool'))('oci-image-tool', () => {
  it('validates the root and repository indexes and the manifest', async () => {
    const { store, r } = await packedStore();
    const files = fs
      .readdirSync(store.root)
      .filter((f) => f.endsWith('index.json'))
      .map((f) => path.join(store.root, f));
    expect(files).toHaveLength(2);
    const idx = execFileSync('oci-image-tool', ['validate', '--type', 'imageIndex', ...files], {
      encoding: 'utf8',
    });
    expect(idx).toMatch(/Validation succeeded/);
    const man = execFileSync(
      'oci-image-tool',
      ['validate', '--type', 'manifest', store.blobPath(r.digest)],
      { encoding: 'utf8', stdio: 'pipe' },
    );
    expect(man).toMatch(/Validation succeeded/);
  });
});

describe.skipIf(!have('tar'))('GNU tar', () => {
  it('lists a layer with the names, uid and modes kit writes', async () => {
    const { store, r } = await packedStore();
    const listing = execFileSync(
      'tar',
      ['--numeric-owner', '-tvf', store.blobPath(r.layers[0]?.digest ?? ('' as never))],
      { encoding: 'utf8' },
    );
    expect(listing).toMatch(/^-rw-r--r-- 1000\/0 +70000 1970-01-01 00:00 m\.bin$/m);
  });
});
