// .kitignore follows .dockerignore (moby patternmatcher) semantics, as kit reads it.
import { describe, expect, it } from 'vitest';
import { KitIgnore, isJunk } from './kitignore.js';

describe('KitIgnore', () => {
  const cases: [string[], string, boolean][] = [
    [['*.bin'], 'model.bin', true],
    [['*.bin'], 'sub/model.bin', false], // anchored at the root, unlike .gitignore
    [['**/*.bin'], 'sub/deep/model.bin', true],
    [['data'], 'data/train/x.csv', true], // a parent matches
    [['data', '!data/keep.csv'], 'data/keep.csv', false], // an exception for the file itself
    [['*.csv', '!keep.csv'], 'keep.csv', false],
    [['/abs/path'], 'abs/path', true],
    [['# comment', ''], 'anything', false],
    [['dir/?.txt'], 'dir/a.txt', true],
    [['dir/?.txt'], 'dir/ab.txt', false],
  ];
  for (const [patterns, file, ignored] of cases) {
    it(`${patterns.join(' | ')} ${ignored ? 'ignores' : 'keeps'} ${file}`, () => {
      expect(new KitIgnore(patterns).matches(file)).toBe(ignored);
    });
  }

  it('always ignores the Kitfile and .kitignore at the root only', () => {
    const ig = new KitIgnore([]);
    expect(ig.ignores('Kitfile')).toBe(true);
    expect(ig.ignores('.kitignore')).toBe(true);
    expect(ig.ignores('sub/Kitfile')).toBe(false);
  });

  it('knows OS junk names case-insensitively', () => {
    expect(isJunk('.DS_Store')).toBe(true);
    expect(isJunk('THUMBS.DB')).toBe(true);
    expect(isJunk('model.bin')).toBe(false);
  });
});
