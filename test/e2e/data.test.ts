/** Scenarios for the data commands as a user meets them: add, status, checkout, link types, gc, fsck, bad input. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  IS_ROOT,
  NOBODY,
  badCacheObjects,
  cacheObjects,
  createSandbox,
  describeRun,
  digestsOf,
  dirMd5,
  dvcTextForDir,
  fileDigests,
  md5,
  snapshot,
  writeTree,
  type RunOptions,
  type RunResult,
  type Sandbox,
  type Tree,
} from './helpers.js';

/** The tree of DVC's tests/func/test_commit.py: each file holds its own name. */
const DVC_GOLDEN_TREE: Tree = {
  foo: 'foo',
  bar: 'bar',
  'subdir/subfoo': 'subfoo',
  'subdir/subbar': 'subbar',
};
/**
 * Golden vector: `dvc add data` of that tree as DVC 3 writes it. The `.dir` md5 and size are
 * from DVC's tests/func/test_commit.py; the key order is DVC 3's (md5, size, nfiles, hash, path).
 */
const DVC_GOLDEN_TEXT = `outs:
- md5: 1aca2c799df82929bbdd976557975546.dir
  size: 18
  nfiles: 4
  hash: md5
  path: data
`;

const cacheDir = (s: Sandbox): string => s.path('.cairn/cache');
const read = (s: Sandbox, rel: string): Promise<string> => fsp.readFile(s.path(rel), 'utf8');

async function statusJson(s: Sandbox): Promise<unknown> {
  const r = await s.cairnOk(['status', '--json']);
  return JSON.parse(r.stdout) as unknown;
}

/** The object a workspace file's content is stored as. */
function objectFor(s: Sandbox, content: string): string {
  const h = md5(content);
  return path.join(cacheDir(s), 'files', 'md5', h.slice(0, 2), h.slice(2));
}

/** Files in the cache (objects, temp files, quarantine): folders alone are not content. */
function cacheFiles(s: Sandbox): Record<string, string> {
  if (!fs.existsSync(cacheDir(s))) return {};
  const all = snapshot(cacheDir(s));
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== 'dir'));
}

/**
 * Runs a command that must fail cleanly: exit 1, an `error:` line matching `message`, no
 * internal error, and not one byte changed in the workspace, its metadata or the cache
 * (`.cairn/tmp` is scratch space and is left out).
 */
async function expectRejected(
  s: Sandbox,
  args: readonly string[],
  message: RegExp,
  options: RunOptions = {},
): Promise<RunResult> {
  const exclude = ['.cairn/tmp', '.cairn/cache'];
  const before = snapshot(s.root, { exclude });
  const cacheBefore = cacheFiles(s);
  const r = await s.cairn(args, options);
  expect(r.code, describeRun(args, r)).toBe(1);
  expect(r.stderr).toMatch(/^error: /m);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain('Internal error');
  expect(snapshot(s.root, { exclude }), 'workspace or metadata changed').toEqual(before);
  expect(cacheFiles(s), 'the cache gained or lost files').toEqual(cacheBefore);
  return r;
}

describe.concurrent('cairn add', () => {
  test('adding a directory writes the .dvc file DVC writes, keeps the data out of git and stores read-only objects', async () => {
    await using s = await createSandbox();
    await writeTree(s.path('data'), DVC_GOLDEN_TREE);

    const r = await s.cairnOk(['add', 'data']);
    expect(r.stdout).toContain(
      'Added data -> data.dvc (1aca2c799df82929bbdd976557975546.dir, 4 files)',
    );
    expect(await read(s, 'data.dvc')).toBe(DVC_GOLDEN_TEXT);
    expect(dvcTextForDir('data', DVC_GOLDEN_TREE)).toBe(DVC_GOLDEN_TEXT); // the harness agrees with DVC
    expect(await read(s, '.gitignore')).toBe('/data\n');

    // git sees the .dvc file and the .gitignore, never the data itself
    await s.git(['check-ignore', '-q', 'data']);
    const gitStatus = await s.git(['status', '--porcelain', '--untracked-files=all']);
    expect(gitStatus).toContain('?? data.dvc');
    expect(gitStatus).toContain('?? .gitignore');
    expect(gitStatus).not.toContain('data/');

    const objects = cacheObjects(cacheDir(s));
    expect(objects.map((o) => o.name).sort()).toEqual(
      [
        ...Object.values(DVC_GOLDEN_TREE).map((c) => md5(c)),
        '1aca2c799df82929bbdd976557975546.dir',
      ].sort(),
    );
    for (const o of objects) expect(o.mode & 0o222, `${o.name} is writable`).toBe(0);
    expect(badCacheObjects(cacheDir(s))).toEqual([]);
    // the workspace keeps its data (the default cache type copies)
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(DVC_GOLDEN_TREE));

    // adding again changes nothing
    const again = await s.cairnOk(['add', 'data']);
    expect(again.stdout).toContain('Unchanged data');
    expect(await read(s, 'data.dvc')).toBe(DVC_GOLDEN_TEXT);
    expect(await read(s, '.gitignore')).toBe('/data\n');
  });

  test('a cache deleted by hand is refilled by the next add, for a directory and a file', async () => {
    await using s = await createSandbox();
    await writeTree(s.path('data'), DVC_GOLDEN_TREE);
    await fsp.writeFile(s.path('model.bin'), 'weights');
    await s.cairnOk(['add', 'data', 'model.bin']);
    const before = cacheObjects(cacheDir(s)).map((o) => o.name);
    expect(before).toHaveLength(6);

    // The index remembers every hash; the objects it vouched for are gone all the same.
    await fsp.rm(cacheDir(s), { recursive: true });
    expect(await statusJson(s)).toEqual({
      'data.dvc': [{ 'changed outs': { data: 'not in cache' } }],
      'model.bin.dvc': [{ 'changed outs': { 'model.bin': 'not in cache' } }],
    });
    await s.cairnOk(['add', 'data', 'model.bin']);
    expect(
      cacheObjects(cacheDir(s))
        .map((o) => o.name)
        .sort(),
    ).toEqual([...before].sort());
    expect(badCacheObjects(cacheDir(s))).toEqual([]);
    expect(await statusJson(s)).toEqual({});
  });
});

describe.concurrent('status and checkout', () => {
  test('status is clean, then reports a modified file and a deleted output, and checkout restores the data', async () => {
    await using s = await createSandbox();
    await writeTree(s.path('data'), DVC_GOLDEN_TREE);
    await s.cairnOk(['add', 'data']);

    expect((await s.cairnOk(['status'])).stdout).toBe('Data and pipelines are up to date.\n');
    expect(await statusJson(s)).toEqual({});

    await fsp.writeFile(s.path('data/foo'), 'foo, edited');
    expect(await statusJson(s)).toEqual({ 'data.dvc': [{ 'changed outs': { data: 'modified' } }] });
    expect((await s.cairnOk(['status'])).stdout).toMatch(
      /data\.dvc:\n\tchanged outs:\n\t\tmodified: +data\n/,
    );

    // putting the old bytes back is clean again, though the file's mtime moved on
    await fsp.writeFile(s.path('data/foo'), 'foo');
    expect(await statusJson(s)).toEqual({});

    // a file deleted inside the directory: modified, and checkout brings it back
    await fsp.rm(s.path('data/subdir/subbar'));
    expect(await statusJson(s)).toEqual({ 'data.dvc': [{ 'changed outs': { data: 'modified' } }] });
    expect((await s.cairnOk(['checkout'])).stdout).toBe('M\tdata\n');
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(DVC_GOLDEN_TREE));

    // the whole output deleted
    await fsp.rm(s.path('data'), { recursive: true });
    expect(await statusJson(s)).toEqual({ 'data.dvc': [{ 'changed outs': { data: 'deleted' } }] });
    expect((await s.cairnOk(['checkout'])).stdout).toBe('A\tdata\n');
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(DVC_GOLDEN_TREE));
    expect(await statusJson(s)).toEqual({});
    expect(await read(s, 'data.dvc')).toBe(DVC_GOLDEN_TEXT);
  });

  test('checkout refuses to overwrite or delete unsaved changes without --force, and loses nothing', async () => {
    await using s = await createSandbox();
    await writeTree(s.path('data'), DVC_GOLDEN_TREE);
    await writeTree(s.root, { 'model.bin': 'weights v1' });
    await s.cairnOk(['add', 'data', 'model.bin']);

    await fsp.writeFile(s.path('data/foo'), 'foo, edited and not saved');
    await fsp.writeFile(s.path('data/new.txt'), 'a brand new file');
    await fsp.writeFile(s.path('model.bin'), 'weights v2, not saved');

    const r = await expectRejected(s, ['checkout'], /would overwrite or delete 2 file\(s\)/);
    expect(r.stderr).toContain('data/foo');
    expect(r.stderr).toContain('data/new.txt');
    expect(r.stderr).toContain('--force');
    // one output at a time: the file output is refused too
    const file = await expectRejected(s, ['checkout', 'model.bin'], /model\.bin/);
    expect(file.stderr).toContain('cairn add model.bin');

    await s.cairnOk(['checkout', '--force']);
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(DVC_GOLDEN_TREE));
    expect(await read(s, 'model.bin')).toBe('weights v1');
    expect(await statusJson(s)).toEqual({});
  });
});

describe.concurrent('cache link types', () => {
  test('with hardlinks the workspace files are the cache objects; unprotect makes writable copies', async () => {
    await using s = await createSandbox();
    await s.cairnOk(['config', 'set', 'cache.type', 'hardlink']);
    await writeTree(s.path('data'), { 'a.txt': 'alpha', 'b/c.txt': 'gamma' });
    await s.cairnOk(['add', 'data']);

    for (const [rel, content] of [
      ['data/a.txt', 'alpha'],
      ['data/b/c.txt', 'gamma'],
    ] as const) {
      const st = fs.statSync(s.path(rel));
      expect(st.ino, rel).toBe(fs.statSync(objectFor(s, content)).ino);
      expect(st.mode & 0o222, `${rel} must be read-only while it shares the cache's inode`).toBe(0);
    }
    expect(await statusJson(s)).toEqual({});
    const cacheBefore = snapshot(cacheDir(s));

    expect((await s.cairnOk(['unprotect', 'data'])).stdout).toBe('Unprotected 2 file(s).\n');
    for (const [rel, content] of [
      ['data/a.txt', 'alpha'],
      ['data/b/c.txt', 'gamma'],
    ] as const) {
      const st = fs.statSync(s.path(rel));
      expect(st.nlink, rel).toBe(1);
      expect(st.ino).not.toBe(fs.statSync(objectFor(s, content)).ino);
      expect(st.mode & 0o200, `${rel} must be writable`).not.toBe(0);
      expect(await read(s, rel)).toBe(content);
    }
    expect(snapshot(cacheDir(s))).toEqual(cacheBefore);
    expect(await statusJson(s)).toEqual({});

    // editing an unprotected file leaves the cache alone
    await fsp.appendFile(s.path('data/a.txt'), ' edited');
    expect(snapshot(cacheDir(s))).toEqual(cacheBefore);
    expect((await s.cairnOk(['fsck'])).stdout).toContain(': 0 corrupt.');
    expect(await statusJson(s)).toEqual({ 'data.dvc': [{ 'changed outs': { data: 'modified' } }] });

    // checkout --force links the committed version back
    await s.cairnOk(['checkout', '--force']);
    expect(fs.statSync(s.path('data/a.txt')).ino).toBe(fs.statSync(objectFor(s, 'alpha')).ino);
    expect(await read(s, 'data/a.txt')).toBe('alpha');
  });

  test('with symlinks the workspace files point into the cache; unprotect replaces them with writable copies', async () => {
    await using s = await createSandbox();
    await s.cairnOk(['config', 'set', 'cache.type', 'symlink']);
    await writeTree(s.path('data'), { 'a.txt': 'alpha', 'b/c.txt': 'gamma' });
    await s.cairnOk(['add', 'data']);

    for (const [rel, content] of [
      ['data/a.txt', 'alpha'],
      ['data/b/c.txt', 'gamma'],
    ] as const) {
      expect(fs.lstatSync(s.path(rel)).isSymbolicLink(), rel).toBe(true);
      expect(fs.readlinkSync(s.path(rel))).toBe(objectFor(s, content));
    }
    expect(await statusJson(s)).toEqual({});
    const cacheBefore = snapshot(cacheDir(s));

    expect((await s.cairnOk(['unprotect', 'data'])).stdout).toBe('Unprotected 2 file(s).\n');
    for (const [rel, content] of [
      ['data/a.txt', 'alpha'],
      ['data/b/c.txt', 'gamma'],
    ] as const) {
      const st = fs.lstatSync(s.path(rel));
      expect(st.isFile(), `${rel} is a regular file`).toBe(true);
      expect(st.mode & 0o200, `${rel} must be writable`).not.toBe(0);
      expect(await read(s, rel)).toBe(content);
    }
    expect(snapshot(cacheDir(s))).toEqual(cacheBefore);
    expect(await statusJson(s)).toEqual({});

    // deleted and checked out again: links once more
    await fsp.rm(s.path('data'), { recursive: true });
    await s.cairnOk(['checkout']);
    expect(fs.readlinkSync(s.path('data/b/c.txt'))).toBe(objectFor(s, 'gamma'));
    expect(await statusJson(s)).toEqual({});
  });
});

describe.concurrent('gc', () => {
  test('gc --all-branches keeps objects another branch uses, plain gc removes them, and a dry run deletes nothing', async () => {
    await using s = await createSandbox();
    await s.git(['add', '.cairn']);
    await s.git(['commit', '-q', '-m', 'init cairn']);

    // v1 is committed on a branch only
    const v1: Tree = { 'a.txt': 'alpha v1', 'b.txt': 'beta' };
    await s.git(['switch', '-q', '-c', 'v1']);
    await writeTree(s.path('data'), v1);
    await s.cairnOk(['add', 'data']);
    await s.git(['add', 'data.dvc', '.gitignore']);
    await s.git(['commit', '-q', '-m', 'data v1']);

    // v2 on main
    await s.git(['switch', '-q', 'main']);
    const v2: Tree = { 'a.txt': 'alpha v2', 'b.txt': 'beta' };
    await writeTree(s.path('data'), v2);
    await s.cairnOk(['add', 'data']);
    await s.git(['add', 'data.dvc', '.gitignore']);
    await s.git(['commit', '-q', '-m', 'data v2']);

    const onlyV1 = [md5('alpha v1'), dirMd5(v1)].sort();
    const v2Objects = [md5('alpha v2'), md5('beta'), dirMd5(v2)].sort();
    const names = (): string[] =>
      cacheObjects(cacheDir(s))
        .map((o) => o.name)
        .sort();
    expect(names()).toEqual([...onlyV1, ...v2Objects].sort());

    // dry runs: report, remove nothing
    const before = snapshot(s.root, { exclude: ['.cairn/tmp'] });
    const dry = JSON.parse((await s.cairnOk(['gc', '--json'])).stdout) as {
      removed: string[];
      dryRun: boolean;
    };
    expect(dry.dryRun).toBe(true);
    expect(dry.removed.sort()).toEqual(onlyV1);
    expect((await s.cairnOk(['gc'])).stdout).toContain('Would remove 2 object(s)');
    const dryAll = JSON.parse((await s.cairnOk(['gc', '-a', '--json'])).stdout) as {
      removed: string[];
    };
    expect(dryAll.removed).toEqual([]);
    expect(snapshot(s.root, { exclude: ['.cairn/tmp'] })).toEqual(before);

    // -a --force keeps both versions: v1 can still be checked out
    await s.cairnOk(['gc', '-a', '--force']);
    expect(names()).toEqual([...onlyV1, ...v2Objects].sort());
    await s.git(['switch', '-q', 'v1']);
    await s.cairnOk(['checkout']);
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(v1));
    await s.git(['switch', '-q', 'main']);
    await s.cairnOk(['checkout']);
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(v2));

    // plain gc --force keeps only what the workspace uses
    const removed = JSON.parse((await s.cairnOk(['gc', '--force', '--json'])).stdout) as {
      removed: string[];
    };
    expect(removed.removed.sort()).toEqual(onlyV1);
    expect(names()).toEqual(v2Objects);
    expect(await statusJson(s)).toEqual({});

    // v1 is gone: checkout says so and leaves the workspace alone
    await s.git(['switch', '-q', 'v1']);
    const r = await s.cairn(['checkout']);
    expect(r.code, describeRun(['checkout'], r)).toBe(1);
    expect(r.stdout).toMatch(/failed\tdata: .*not in the cache/);
    expect(fileDigests(s.path('data'))).toEqual(digestsOf(v2));
  });
});

describe.concurrent('fsck', () => {
  test('fsck finds a corrupted object, moves it to quarantine and exits 1; re-adding heals the cache', async () => {
    await using s = await createSandbox();
    await writeTree(s.path('data'), { 'a.txt': 'alpha', 'b.txt': 'beta' });
    await s.cairnOk(['add', 'data']);
    expect((await s.cairnOk(['fsck'])).stdout).toMatch(
      /^Checked 3 object\(s\), .*: 0 corrupt\.\n$/,
    );

    const victim = objectFor(s, 'alpha');
    await fsp.chmod(victim, 0o644);
    await fsp.writeFile(victim, 'bit rot');

    const r = await s.cairn(['fsck', '--json']);
    expect(r.code, describeRun(['fsck', '--json'], r)).toBe(1);
    const result = JSON.parse(r.stdout) as {
      checked: number;
      corrupt: { md5: string; movedTo: string }[];
    };
    expect(result.checked).toBe(3);
    expect(result.corrupt.map((c) => c.md5)).toEqual([md5('alpha')]);
    const movedTo = result.corrupt[0]?.movedTo ?? '';
    expect(path.dirname(movedTo)).toBe(path.join(cacheDir(s), 'quarantine'));
    expect(await fsp.readFile(movedTo, 'utf8')).toBe('bit rot');
    expect(fs.existsSync(victim)).toBe(false);
    expect(badCacheObjects(cacheDir(s))).toEqual([]);

    expect(await statusJson(s)).toEqual({
      'data.dvc': [{ 'changed outs': { data: 'not in cache' } }],
    });
    // the workspace still holds the good bytes: adding again puts them back
    await s.cairnOk(['add', 'data']);
    expect(await fsp.readFile(victim, 'utf8')).toBe('alpha');
    expect((await s.cairnOk(['fsck'])).stdout).toContain(': 0 corrupt.');
    expect(await statusJson(s)).toEqual({});
  });
});

describe.concurrent(
  'bad input gets a clear message, a non-zero exit and changes nothing on disk',
  () => {
    test('a path outside the repository', async () => {
      await using s = await createSandbox();
      await fsp.writeFile(path.join(s.dir, 'outside.txt'), 'not ours');
      await expectRejected(s, ['add', '../outside.txt'], /outside the repository/);
      await expectRejected(s, ['add', path.join(s.dir, 'outside.txt')], /outside the repository/);
    });

    test('a nonexistent path, even next to a good one', async () => {
      await using s = await createSandbox();
      await writeTree(s.path('data'), DVC_GOLDEN_TREE);
      const r = await expectRejected(s, ['add', 'nope'], /nope does not exist/);
      expect(r.stderr).not.toContain('link'); // a typo is not a broken link
      await expectRejected(s, ['add', 'data', 'nope'], /nope does not exist/);
      // a real broken link is named as one
      await fsp.symlink('gone', s.path('dangling'));
      await expectRejected(
        s,
        ['add', 'dangling'],
        /Cannot read dangling: no such file \(a broken symbolic link\?\)/,
      );
    });

    test('a symbolic link loop', async () => {
      await using s = await createSandbox();
      await fsp.symlink('loop', s.path('loop'));
      await expectRejected(s, ['add', 'loop'], /symbolic link loop/i);
    });

    test('a directory holding a link back to its ancestor', async () => {
      await using s = await createSandbox();
      await writeTree(s.path('data'), { 'a.txt': 'alpha', 'sub/b.txt': 'beta' });
      await fsp.symlink('..', s.path('data/sub/up'));
      await expectRejected(s, ['add', 'data'], /symbolic link loop/i);
    });

    test('an unreadable file inside a directory', async ({ skip }) => {
      await using s = await createSandbox();
      await writeTree(s.path('data'), {
        'a.txt': 'alpha',
        'secret.txt': 'top secret',
        'z.txt': 'zulu',
      });
      await fsp.chmod(s.path('data/secret.txt'), 0o000);
      // Root reads any file whatever its mode: run cairn as an unprivileged user instead.
      const options: RunOptions = {};
      if (IS_ROOT) {
        const probe = await s.exec('true', [], { user: NOBODY }).catch((e: unknown) => e);
        if (probe instanceof Error)
          skip(`running as root and cannot switch to uid ${NOBODY.uid}: ${probe.message}`);
        await s.chownTo(NOBODY);
        options.user = NOBODY;
      }
      await expectRejected(
        s,
        ['add', 'data'],
        /Cannot read .*secret\.txt: permission denied/,
        options,
      );
    });

    test('a path that a dvc.yaml stage outputs', async () => {
      await using s = await createSandbox();
      await writeTree(s.root, {
        'dvc.yaml': 'stages:\n  train:\n    cmd: x\n    outs:\n    - model.pkl\n',
        'model.pkl': 'pickled',
      });
      const r = await expectRejected(
        s,
        ['add', 'model.pkl'],
        /model\.pkl is produced by stage 'train' in dvc\.yaml/,
      );
      expect(r.stderr).toContain('dvc.lock');
    });

    test('a .dvc file with a malformed md5 is reported at file:line:col', async () => {
      await using s = await createSandbox();
      await writeTree(s.root, {
        'data.dvc': 'outs:\n- md5: 1aca2c799df82929bbdd97655797554.dir\n  size: 18\n  path: data\n',
        'other.txt': 'other',
      });
      await writeTree(s.path('data'), DVC_GOLDEN_TREE);
      const at = /data\.dvc:2:8: malformed md5 '1aca2c799df82929bbdd97655797554\.dir'/;
      await expectRejected(s, ['status'], at);
      await expectRejected(s, ['checkout'], at);
      await expectRejected(s, ['add', 'other.txt'], at);
    });

    test('cairn outside an initialised repository', async () => {
      await using s = await createSandbox({ init: false });
      await writeTree(s.path('data'), DVC_GOLDEN_TREE);
      const r = await expectRejected(s, ['add', 'data'], /is not inside a Cairn repository/);
      expect(r.stderr).toContain('cairn init');
      await expectRejected(s, ['status'], /is not inside a Cairn repository/);
      await expectRejected(s, ['gc', '--force'], /is not inside a Cairn repository/);
    });

    test('init outside git is refused, and --no-scm works without git', async () => {
      await using s = await createSandbox({ git: false, init: false });
      await writeTree(s.path('data'), DVC_GOLDEN_TREE);
      const r = await expectRejected(s, ['init'], /is not inside a git repository/);
      expect(r.stderr).toContain('--no-scm');
      expect(fs.existsSync(s.path('.cairn'))).toBe(false);

      await s.cairnOk(['init', '--no-scm']);
      await s.cairnOk(['add', 'data']);
      expect(await read(s, 'data.dvc')).toBe(DVC_GOLDEN_TEXT);
      expect(fs.existsSync(s.path('.gitignore'))).toBe(false);
      expect(await statusJson(s)).toEqual({});
      await fsp.rm(s.path('data'), { recursive: true });
      await s.cairnOk(['checkout']);
      expect(fileDigests(s.path('data'))).toEqual(digestsOf(DVC_GOLDEN_TREE));
    });
  },
);
