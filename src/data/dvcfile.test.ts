import { describe, expect, it } from 'vitest';
import { ManifestError } from '../core/errors.js';
import { _parseCanonical, _parseWithPositions, parseDvcFile, serializeDvcFile } from './dvcfile.js';

describe('.dvc files', () => {
  // Byte layout of `dvc add` output in DVC 3.x, as in iterative/example-get-started's data/data.xml.dvc.
  const fileDvc =
    'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 14445097\n  hash: md5\n  path: data.xml\n';
  // A directory output: DVC 3 adds nfiles after size (tests/func/test_add.py expectations).
  const dirDvc =
    'outs:\n- md5: 1aca2c799df82929bbdd976557975546.dir\n  size: 18\n  nfiles: 4\n  hash: md5\n  path: data\n';

  it('round-trips the files DVC 3 writes byte for byte', () => {
    for (const text of [fileDvc, dirDvc]) {
      expect(serializeDvcFile(parseDvcFile('/r/x.dvc', text))).toBe(text);
    }
  });

  it('keeps annotations and flags it does not interpret', () => {
    const text =
      'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 3\n  isexec: true\n  hash: md5\n  path: run.sh\n  desc: the entry point\n  push: false\n';
    expect(serializeDvcFile(parseDvcFile('/r/run.sh.dvc', text))).toBe(text);
  });

  it('reads DVC 2.x entries (no hash key) as legacy md5-dos2unix outputs', () => {
    const dvc = parseDvcFile(
      '/r/a.dvc',
      'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 3\n  path: a\n',
    );
    expect(dvc.outs[0]?.hash).toBeUndefined();
  });

  it('points at the malformed md5 with file:line:col and a way out', () => {
    const error = (() => {
      try {
        parseDvcFile('/r/data.dvc', 'outs:\n- md5: 1aca2c79xyz\n  path: data\n');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toBe(
      "/r/data.dvc:2:8: malformed md5 '1aca2c79xyz': expected 32 lowercase hex digits, with '.dir' for a directory",
    );
    expect((error as ManifestError).hint).toMatch(/cairn add/);
  });

  it.each([
    ['outs: {}\n', /1:7: `outs` must be a list/],
    ['outs:\n- size: 3\n', /2:3: output has no `path`/],
    ['outs:\n- path: a\n  size: -1\n', /3:9: `size` must be a whole number of bytes/],
    ['outs:\n- path: a\n  hash: sha256\n', /3:9: unsupported hash 'sha256'/],
    ['outs:\n- path: a\n  path: b\n', /3:3: .*(unique|duplicate)/i],
    ['md5: x\n', /1:1: missing `outs`/],
    ['outs: [\n', /:\d+:\d+: /],
  ])('rejects %j', (text, message) => {
    expect(() => parseDvcFile('/r/a.dvc', text)).toThrow(message);
  });

  it('reads the canonical shape without a YAML parser, to the same result', () => {
    const texts = [
      fileDvc,
      dirDvc,
      'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 3\n  isexec: true\n  hash: md5\n  path: bin/run.sh\n',
      `${fileDvc}- md5: 1aca2c799df82929bbdd976557975546.dir\n  size: 18\n  nfiles: 4\n  hash: md5\n  path: data_2\n`,
    ];
    for (const text of texts) {
      const fast = _parseCanonical('/r/a.dvc', text);
      expect(fast).toBeDefined();
      expect(fast).toEqual(_parseWithPositions('/r/a.dvc', text));
    }
  });

  it.each([
    [
      'a path YAML would read as a boolean',
      'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 3\n  hash: md5\n  path: true\n',
    ],
    [
      'a path starting with a digit',
      'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 3\n  hash: md5\n  path: 1e3\n',
    ],
    ['a legacy entry', 'outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 3\n  path: a\n'],
    ['a malformed md5', 'outs:\n- md5: 22a1a293\n  size: 3\n  hash: md5\n  path: a\n'],
  ])('leaves %s to the full parser', (_name, text) => {
    expect(_parseCanonical('/r/a.dvc', text)).toBeUndefined();
  });
});
