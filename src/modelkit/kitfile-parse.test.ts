// Kitfile parsing is strict (unknown keys are errors) and validation follows kit's rules
// (KitOps §1.3), every problem reported at Kitfile:line:col.
import { describe, expect, it } from 'vitest';
import { kitfileToConfigJson } from './kitfile.js';
import { parseKitfile } from './kitfile-parse.js';
import { assertValidKitfile, validateKitfile } from './kitfile-validate.js';

const problems = (text: string) => validateKitfile(parseKitfile('Kitfile', text)).problems;

describe('parseKitfile', () => {
  it('reads every section and keeps scalar text as written', () => {
    const { kitfile } = parseKitfile(
      'Kitfile',
      `manifestVersion: 1.0
package: {name: p, version: 1.10, authors: [a, b]}
model:
  path: m.bin
  parts: [{path: cfg.json, type: config}]
  parameters: {lr: 0x10, big: 1.2e+3}
code: [{path: src}]
datasets: [{name: d, path: data}]
docs: [{path: README.md}]
prompts: [{name: sys, path: prompts/sys.md}]
`,
    );
    expect(kitfile.manifestVersion).toBe('1.0');
    expect(kitfile.package.version).toBe('1.10');
    expect(kitfile.package.authors).toEqual(['a', 'b']);
    expect(kitfile.model?.parts?.[0]?.type).toBe('config');
    expect(kitfileToConfigJson(kitfile)).toContain('"parameters":{"big":1200,"lr":16}');
  });

  it('rejects an unknown key at its line and column', () => {
    expect(() =>
      parseKitfile('Kitfile', 'manifestVersion: 1.0.0\nmodel:\n  path: m\n  weights: x\n'),
    ).toThrow(/^Kitfile:4:3: unknown key "weights" in model/);
  });

  it('rejects digest and diffId, which belong to the config only', () => {
    expect(() => parseKitfile('Kitfile', 'code:\n  - path: a\n    digest: sha256:00\n')).toThrow(
      /Kitfile:3:5: unknown key "digest"/,
    );
  });

  it('reports YAML syntax errors with a position', () => {
    expect(() => parseKitfile('Kitfile', 'model: [\n')).toThrow(/^Kitfile:\d+:\d+:/);
  });

  it('gives the config "package":{} even when absent, and docs paths even when empty', () => {
    const { kitfile } = parseKitfile(
      'Kitfile',
      'manifestVersion: 1.0.0\ndocs:\n  - description: all\n',
    );
    expect(kitfileToConfigJson(kitfile)).toBe(
      '{"manifestVersion":"1.0.0","package":{},"docs":[{"path":"","description":"all"}]}',
    );
  });
});

describe('validateKitfile', () => {
  it('accepts a plain Kitfile', () => {
    expect(problems('manifestVersion: 1.0.0\nmodel: {path: m.bin}\ncode: [{path: src}]\n')).toEqual(
      [],
    );
  });

  it('finds duplicate paths after cleaning, but not among prompts', () => {
    expect(problems('model: {path: ./a/}\ncode: [{path: a}]\n')[0]?.message).toMatch(
      /duplicate path a/,
    );
    expect(problems('model: {path: a}\nprompts: [{path: a}]\n')).toEqual([]);
    expect(problems('code: [{path: ""}, {path: .}]\n')[0]?.message).toMatch(/duplicate path \./);
  });

  it('rejects absolute paths and paths outside the context', () => {
    expect(problems('code: [{path: /etc}]\n')[0]?.message).toMatch(/absolute/);
    expect(problems('datasets: [{path: ../x}]\n')[0]?.message).toMatch(/outside the context/);
    expect(problems('datasets: [{path: a/../b}]\n')).toEqual([]);
  });

  it('checks model part types', () => {
    expect(
      problems('model: {path: m, parts: [{path: p, type: "bad type"}]}\n')[0]?.message,
    ).toMatch(/type/);
    expect(
      problems(`model: {path: m, parts: [{path: p, type: ${'a'.repeat(65)}}]}\n`),
    ).toHaveLength(1);
    expect(problems('model: {path: m, parts: [{path: p, type: gguf.q4-0}]}\n')).toEqual([]);
  });

  it('allows a ModelKit reference only in model.path, and no http URLs', () => {
    expect(problems('model: {path: "myorg/base:v1"}\n')).toEqual([]);
    expect(problems('code: [{path: "myorg/base:v1"}]\n')[0]?.message).toMatch(/ModelKit reference/);
    expect(problems('docs: [{path: "https://x.org/a"}]\n')[0]?.message).toMatch(/http/);
  });

  it('checks remote datasets', () => {
    expect(problems('datasets: [{path: d, remotePath: "s3://b/k"}]\n')[0]?.message).toMatch(
      /remoteHash/,
    );
    expect(problems('datasets: [{path: d, remoteHash: abc}]\n')[0]?.message).toMatch(
      /without remotePath/,
    );
    expect(problems('datasets: [{path: d, remotePath: "s3://b/k", remoteHash: e}]\n')).toEqual([]);
    expect(
      problems(
        'datasets: [{path: d, remotePath: "s3://b/k", remoteHash: e}]\ncode: [{path: d/x}]\n',
      )[0]?.message,
    ).toMatch(/inside the remote dataset/);
  });

  // Cases after kitops pkg/artifact/testdata/validation (re-expressed).
  it("agrees with kit's validation cases", () => {
    const ok = (text: string): void => {
      expect(problems(text), text).toEqual([]);
    };
    const bad = (text: string, re: RegExp): void => {
      expect(problems(text)[0]?.message ?? '', text).toMatch(re);
    };
    bad('model: {path: test-path/}\ndatasets: [{path: test-path}]\n', /duplicate path test-path/);
    ok(
      'model: {path: models/main.bin}\ndatasets:\n  - {path: data/train, remotePath: "docker.io/kit-org/kit-repo:latest"}\n  - {path: data/train-eval}\n  - {path: data/eval}\ncode: [{path: code}]\n',
    );
    ok('datasets: [{path: data/train, remotePath: "docker.io/kit-org/kit-repo:latest"}]\n');
    bad(
      'datasets: [{path: "docker.io/kit-org/kit-repo:latest"}]\n',
      /ModelKit reference is allowed only/,
    );
    bad(
      'datasets:\n  - {path: data/train, remotePath: "docker.io/kit-org/kit-repo:latest"}\n  - {path: data/train/extra}\n',
      /inside the remote dataset/,
    );
    bad('prompts: [{path: /abs/prompt.md}]\n', /absolute/);
    bad('mcpServers: [{name: a, path: x.zip}]\n', /must end with .mcpb/);
    bad('mcpServers: [{path: x.mcpb}]\n', /name is required/);
    ok('mcpServers: [{name: a, path: x.mcpb}]\n');
  });

  it('throws one error listing every problem, the first at its position', () => {
    const parsed = parseKitfile('Kitfile', 'model:\n  path: /abs\ncode:\n  - path: /also\n');
    expect(() => {
      assertValidKitfile(parsed);
    }).toThrow(/^Kitfile:2:9: .*absolute[\s\S]*Kitfile:4:11: .*absolute/);
  });

  it('warns about an unexpected manifestVersion', () => {
    expect(
      validateKitfile(parseKitfile('Kitfile', 'manifestVersion: "2"\n')).warnings,
    ).toHaveLength(1);
  });
});
