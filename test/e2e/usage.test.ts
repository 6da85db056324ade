/**
 * Usage errors: whatever command a mistake is made on, at any depth, commander's message goes to
 * stderr, nothing runs, and the exit code is 2, so scripts can tell a wrong command line (2) from
 * a command that failed (1). Help and version still exit 0.
 */
import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createSandbox, describeRun, type Sandbox } from './helpers.js';

/** The command paths `cairn --help` lists, recursively (`help` and hidden ones are not listed). */
async function commandPaths(s: Sandbox, parent: string[] = []): Promise<string[][]> {
  const help = await s.cairnOk([...parent, '--help']);
  const section = help.stdout.split(/^Commands:$/m)[1] ?? '';
  const names = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1] ?? '')
    .filter((name) => name !== 'help');
  const paths: string[][] = [];
  for (const name of names) {
    const path = [...parent, name];
    paths.push(path, ...(await commandPaths(s, path)));
  }
  return paths;
}

describe.concurrent('usage errors exit 2', () => {
  test('an unknown option exits 2 on every command and subcommand', async () => {
    await using s = await createSandbox();
    const paths = await commandPaths(s);
    // Every group and its nesting: a miss in the walk would let a command slip past the check.
    expect(paths).toContainEqual(['add']);
    expect(paths).toContainEqual(['config', 'set']);
    expect(paths).toContainEqual(['exp', 'queue', 'start']);
    expect(paths).toContainEqual(['render', 'k8s']);
    expect(paths.length).toBeGreaterThan(60);
    const failures: string[] = [];
    // A few at a time: each is a node process.
    for (let i = 0; i < paths.length; i += 4) {
      await Promise.all(
        paths.slice(i, i + 4).map(async (path) => {
          const args = [...path, '--no-such-option'];
          const r = await s.cairn(args);
          // `agent` names its missing required --repo first; any other names the bad option.
          if (r.code !== 2 || !/^error: (unknown|required) option/.test(r.stderr))
            failures.push(describeRun(args, r));
        }),
      );
    }
    expect(failures).toEqual([]);
  });

  test.each([
    [['add'], "error: missing required argument 'paths'"],
    [['config', 'set', 'core.remote'], "error: missing required argument 'value'"],
    [['add', 'a', '--bogus'], "error: unknown option '--bogus'"],
    [['exp', 'queue', 'start', '-j', '0'], "option '-j, --jobs <n>' argument '0' is invalid"],
    [['serve', '--port', 'abc'], "option '--port <port>' argument 'abc' is invalid"],
    [['pack', '--compression', 'lz4'], 'Allowed choices are none, gzip, gzip-fastest, zstd'],
    [['ci', 'init', 'svn'], 'Allowed choices are github, gitlab'],
    [['dag', '--dot', '--mermaid'], "option '--dot' cannot be used with option '--mermaid'"],
    [['agent'], "error: required option '--repo <url|path>' not specified"],
    [['exp', 'bogus'], "error: unknown command 'bogus'"],
    [['exp'], 'Usage: cairn exp [options] [command]'],
    [['bogus'], "error: unknown command 'bogus'"],
    [['--bogus'], "error: unknown option '--bogus'"],
    [['commit', 'a', 'b', '--tls-verify'], "error: unknown option '--tls-verify'"],
  ])('cairn %j', async (args, message) => {
    await using s = await createSandbox({ init: false });
    const r = await s.cairn(args);
    expect(r.code, describeRun(args, r)).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  test('nothing runs: a bad option after good arguments tracks nothing', async () => {
    await using s = await createSandbox();
    fs.writeFileSync(s.path('data.csv'), 'a,b\n1,2\n');
    const r = await s.cairn(['add', 'data.csv', '--bogus']);
    expect(r.code, describeRun(['add', 'data.csv', '--bogus'], r)).toBe(2);
    expect(fs.existsSync(s.path('data.csv.dvc'))).toBe(false);
  });

  test('help and version exit 0; a command that fails exits 1', async () => {
    await using s = await createSandbox();
    for (const args of [['--help'], ['--version'], ['exp', 'queue', 'start', '--help']]) {
      const r = await s.cairn(args);
      expect(r.code, describeRun(args, r)).toBe(0);
    }
    const help = await s.cairn(['help', 'add']);
    expect(help.code, describeRun(['help', 'add'], help)).toBe(0);
    expect(help.stdout).toContain('Usage: cairn add [options] <paths...>');
    const missing = await s.cairn(['add', 'no-such-file']);
    expect(missing.code, describeRun(['add', 'no-such-file'], missing)).toBe(1);
  });
});
