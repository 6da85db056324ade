import { describe, expect, it } from 'vitest';
import { findImages, isLocal, rewriteImages } from './markdown-images.js';

const destinations = (md: string): string[] => findImages(md).map((l) => l.destination);

describe('images in a Markdown report', () => {
  it('finds Markdown and HTML images, angle-bracketed and with titles and parentheses', () => {
    const md = [
      '![a](plots/a.png) and ![b](<plots/b c.png> "t")',
      '<img alt="x" src="plots/c.svg" width=3> <IMG SRC=\'d.png\'>',
      '![e](plots/e(1).png)',
    ].join('\n');
    expect(destinations(md)).toEqual([
      'plots/a.png',
      'plots/b c.png',
      'plots/c.svg',
      'd.png',
      'plots/e(1).png',
    ]);
  });

  it('skips fenced and indented code and code spans', () => {
    const md = [
      '```md',
      '![no](a.png)',
      '```',
      '~~~~',
      '```',
      '![no](b.png)',
      '~~~~',
      '    ![no](c.png)',
      'text `![no](d.png)` then ![yes](e.png)',
    ].join('\n');
    expect(destinations(md)).toEqual(['e.png']);
  });

  it('rewrites only the destinations it was given, leaving the rest of the text as is', () => {
    const md = '# R\n![a](a.png "t") ![b](<b.png>) ![w](https://x/y.png)\n';
    const links = findImages(md);
    const out = rewriteImages(
      md,
      links,
      new Map([
        ['a.png', 'U1'],
        ['b.png', 'U2'],
      ]),
    );
    expect(out).toBe('# R\n![a](U1 "t") ![b](<U2>) ![w](https://x/y.png)\n');
  });

  it('tells local paths from URLs', () => {
    expect(['a.png', '../b.png', '/tmp/c.png'].every(isLocal)).toBe(true);
    expect(
      ['https://x/a.png', 'data:image/png;base64,AA', '//cdn/a.png', '#top', ''].some(isLocal),
    ).toBe(false);
  });
});
