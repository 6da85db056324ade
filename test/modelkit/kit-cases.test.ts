// kit's own pack/unpack scenarios, re-expressed (after kitops testing/testdata/pack-unpack,
// Apache-2.0): files are created with the content `testing: <path>`, packed, unpacked into an
// empty directory; every listed file must come back with its content, and no ignored file may.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kitPack } from '../../src/commands/kit.js';
import { kitUnpack } from '../../src/commands/kit-unpack.js';
import { listFiles, openTempStore, tempDir, writeTree } from './helpers.js';

interface Case {
  name: string;
  kitfile: string;
  kitignore?: string;
  files: string[];
  ignored?: string[];
}

const INTERSECTING = `manifestVersion: 1.0.0
package:
  name: intersecting
model:
  name: m
  path: main-dir
datasets:
  - name: d
    path: main-dir/subdir
code:
  - path: .
`;
const INTERSECTING_FILES = [
  'main-dir/model-file1.txt',
  'main-dir/model-file2.txt',
  'main-dir/main-subdir/model-subdir1.txt',
  'main-dir/subdir/dataset-file1.txt',
  'main-dir/subdir/subdir2/dataset-subdir1.txt',
  'other-dir/code-file1.txt',
  'root-file1.txt',
  'root-file2',
];

const CASES: Case[] = [
  {
    name: 'a Kitfile with only a package packs to no layers',
    kitfile: 'manifestVersion: 1.0.0\npackage:\n  name: empty\n',
    files: [],
  },
  {
    name: 'nested and overlapping paths each land once',
    kitfile: INTERSECTING,
    files: INTERSECTING_FILES,
  },
  {
    name: '.kitignore applies inside every layer, overlapping or not',
    kitfile: INTERSECTING,
    kitignore:
      'main-dir/ignored-subdir\nmain-dir/main-subdir/ignored-file1.txt\nmain-dir/subdir/ignored-dataset1.txt\nignored-dir\n',
    files: INTERSECTING_FILES,
    ignored: [
      'main-dir/ignored-subdir/file1',
      'main-dir/main-subdir/ignored-file1.txt',
      'main-dir/subdir/ignored-dataset1.txt',
      'ignored-dir/file1',
    ],
  },
  {
    name: 'path spellings: ./x, x/, ./x/ and files in subdirectories',
    kitfile: `manifestVersion: 1.0.0
docs:
  - path: my-file.txt
  - path: ./my-file2.txt
  - path: dir-one
  - path: dir-two/
  - path: ./dir-three
  - path: ./dir-four/
  - path: dir-five/my-file.txt
`,
    files: [
      'my-file.txt',
      'my-file2.txt',
      'dir-one/test-file',
      'dir-two/test-file',
      'dir-three/test-file',
      'dir-four/test-file',
      'dir-five/my-file.txt',
    ],
  },
  {
    name: 'model parts inside the model directory, with ** ignore patterns',
    kitfile: `manifestVersion: 1.0.0
model:
  path: ./model
  parts:
    - name: part1
      path: model/part1/
    - name: part2
      path: model/part2/
    - name: part3
      path: part3/
`,
    kitignore: '**/*.md\n**/part2/ignored\n',
    files: ['model/main-model1', 'model/part1/part1A', 'model/part2/part2A', 'part3/part3A'],
    ignored: [
      'model/main-ignored.md',
      'model/part1/part1-ignored.md',
      'model/part2/ignored/ignored-file.txt',
      'part3/ignored.md',
    ],
  },
  {
    name: 'the context directory itself as a layer',
    kitfile: 'manifestVersion: 1.0.0\nmodel:\n  path: .\n',
    files: ['a.txt', 'sub/b.txt', '.hidden'],
  },
];

describe("kit's pack/unpack scenarios", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { home } = await openTempStore();
      const work = tempDir();
      const ctxDir = path.join(work, 'ctx');
      const content = (p: string) => `testing: ${p}`;
      writeTree(ctxDir, {
        Kitfile: c.kitfile,
        ...(c.kitignore === undefined ? {} : { '.kitignore': c.kitignore }),
        ...Object.fromEntries([...c.files, ...(c.ignored ?? [])].map((f) => [f, content(f)])),
      });
      fs.mkdirSync(ctxDir, { recursive: true });
      const ctx = { cwd: work, env: { CAIRN_HOME: home }, sink: () => undefined };
      await kitPack(ctx, { dir: 'ctx', tags: ['case:v1'], compression: 'none' });
      const out = path.join(work, 'out');
      await kitUnpack(ctx, 'case:v1', {
        dir: out,
        overwrite: false,
        ignoreExisting: false,
        filters: [],
      });
      for (const f of c.files)
        expect(fs.readFileSync(path.join(out, f), 'utf8'), f).toBe(content(f));
      for (const f of c.ignored ?? []) expect(fs.existsSync(path.join(out, f)), f).toBe(false);
      expect(
        listFiles(out)
          .filter((f) => f !== 'Kitfile')
          .sort(),
      ).toEqual([...c.files].sort());
    });
  }
});
