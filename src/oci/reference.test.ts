// Reference parsing and normalisation as kit's util.ParseReference (KitOps §3; cases after
// pkg/lib/repo/util/reference_test.go).
import { describe, expect, it } from 'vitest';
import { displayReference, formatReference, orLatest, parseReference } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  const cases: [string, string, string[]][] = [
    [D, `localhost/_@${D}`, []],
    ['testrepo', 'localhost/testrepo', []],
    ['testorg/testrepo:tag', 'localhost/testorg/testrepo:tag', []],
    ['registry.example.com/org/repo:v1', 'registry.example.com/org/repo:v1', []],
    ['localhost:5000/repo:v1', 'localhost:5000/repo:v1', []],
    ['localhost/repo:v1', 'localhost/repo:v1', []],
    ['repo:t1,t2,t3', 'localhost/repo:t1', ['t2', 't3']],
    [`repo:tag@${D}`, `localhost/repo@${D}`, []],
    [`example.com/repo@${D}`, `example.com/repo@${D}`, []],
  ];
  for (const [input, expected, extra] of cases) {
    it(`${input} -> ${expected}`, () => {
      const { ref, extraTags } = parseReference(input);
      expect(formatReference(ref)).toBe(expected);
      expect(extraTags).toEqual(extra);
    });
  }

  it('defaults a missing tag to latest', () => {
    expect(formatReference(orLatest(parseReference('org/model').ref))).toBe(
      'localhost/org/model:latest',
    );
  });

  it('hides localhost and _ when displayed', () => {
    expect(displayReference(parseReference('org/model:v1').ref)).toBe('org/model:v1');
    expect(displayReference(parseReference(D).ref)).toBe(D);
  });

  for (const bad of ['Org/Model:v1', 'repo:-bad', 'repo@sha256:abc', 'repo:', '', 'a//b']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => parseReference(bad)).toThrow(/invalid reference/);
    });
  }
});
