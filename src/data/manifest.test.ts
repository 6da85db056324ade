import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildManifest, parseManifest, sortEntries } from './manifest.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('.dir manifests', () => {
  it('hashes DVC golden tree to 1aca2c799df82929bbdd976557975546.dir (DVC tests/func/test_commit.py)', () => {
    const entries = ['foo', 'bar', 'subdir/subfoo', 'subdir/subbar'].map((relpath) => ({
      relpath,
      md5: md5(relpath.split('/').pop() ?? ''),
    }));
    const built = buildManifest(sortEntries(entries));
    expect(built.md5).toBe('1aca2c799df82929bbdd976557975546.dir');
    // file objects from the same test: foo, bar
    expect(md5('foo')).toBe('acbd18db4cc2f85cedef654fccc4a4d8');
    expect(md5('bar')).toBe('37b51d194a7513e45b56f6524f2d51f2');
    expect(built.bytes.toString()).toBe(
      '[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, {"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}, ' +
        '{"md5": "68dde2c3c4e7953c2290f176bbdc9a54", "relpath": "subdir/subbar"}, {"md5": "4ce8d2a2cf314a52fa7f315ca37ca445", "relpath": "subdir/subfoo"}]',
    );
  });

  it('sorts by code point and escapes non-ASCII as Python json.dumps does', () => {
    const sorted = sortEntries([
      { relpath: 'z', md5: md5('z') },
      { relpath: '\u{1F600}.png', md5: md5('a') },
      { relpath: '\uFF21.png', md5: md5('b') },
      { relpath: 'a-b/c', md5: md5('c') },
      { relpath: 'a/b', md5: md5('d') },
    ]);
    expect(sorted.map((e) => e.relpath)).toEqual([
      'a-b/c',
      'a/b',
      'z',
      '\uFF21.png',
      '\u{1F600}.png',
    ]);
    expect(buildManifest(sorted).bytes.toString()).toContain('"relpath": "\\ud83d\\ude00.png"');
  });

  it('refuses manifests that would write outside the directory', () => {
    for (const relpath of ['../x', '/etc/passwd', 'a/../../b', 'a//b', '']) {
      const bytes = Buffer.from(JSON.stringify([{ md5: md5('x'), relpath }]));
      expect(() => parseManifest(bytes, 'obj')).toThrow(/unsafe relpath/);
    }
  });
});
