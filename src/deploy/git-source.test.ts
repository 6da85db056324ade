import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { startGitHttp } from '../../test/deploy/git-http.js';
import { CairnError } from '../core/errors.js';
import { GitSource, maskUrl } from './git-source.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-gitsrc-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@x',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@x',
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
const manifest = (hex: string) => `apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata:
  name: prod
spec:
  models:
    churn:
      modelkit: registry.local:5000/acme/churn@sha256:${hex.repeat(64)}
`;

/** A bare "remote" below `root` and a work clone that commits and pushes to it. */
function makeRemote(root: string) {
  fs.mkdirSync(root, { recursive: true });
  const bare = path.join(root, 'deploy.git');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const work = path.join(root, 'work');
  git(root, 'clone', '--quiet', bare, work);
  git(work, 'checkout', '--quiet', '-b', 'main');
  const push = (hex: string) => {
    fs.mkdirSync(path.join(work, 'environments'), { recursive: true });
    fs.writeFileSync(path.join(work, 'environments', 'prod.yaml'), manifest(hex));
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', `prod: ${hex}`);
    git(work, 'push', '--quiet', 'origin', 'main');
    return git(work, 'rev-parse', 'HEAD');
  };
  return { bare, push };
}

let n = 0;
const cache = () => path.join(tmp, `cache-${String(++n)}`);
const digestOf = async (source: GitSource, commit: string) =>
  (await source.readEnvironment(commit, 'prod')).models[0]?.reference.digest;

async function failure(p: Promise<unknown>): Promise<CairnError> {
  const error: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof CairnError) return error;
  throw new Error(`expected a CairnError, got ${String(error)}`);
}

describe('following a git repository', () => {
  test.each([
    ['a local path', (bare: string) => bare],
    ['a file:// URL', (bare: string) => pathToFileURL(bare).href],
  ])('through %s, a pushed commit is seen on the next fetch', async (_, urlOf) => {
    const remote = makeRemote(path.join(tmp, `local-${String(++n)}`));
    const first = remote.push('a');
    const source = await GitSource.open({
      url: urlOf(remote.bare),
      branch: 'main',
      cacheDir: cache(),
    });
    expect(source.commit).toBeUndefined();
    expect(await source.fetch()).toBe(first);
    expect(await digestOf(source, first)).toBe(`sha256:${'a'.repeat(64)}`);
    const second = remote.push('b');
    expect(await source.fetch()).toBe(second);
    expect(source.commit).toBe(second);
    expect(await digestOf(source, second)).toBe(`sha256:${'b'.repeat(64)}`);
  });

  test('over smart HTTP, shallow, and the mirror remembers its commit across restarts', async () => {
    const root = path.join(tmp, 'http');
    const remote = makeRemote(root);
    const first = remote.push('a');
    await using server = await startGitHttp(root);
    const cacheDir = cache();
    const source = await GitSource.open({
      url: `${server.url}/deploy.git`,
      branch: 'main',
      cacheDir,
    });
    expect(await source.fetch()).toBe(first);
    expect(server.requests).toContain('POST /deploy.git/git-upload-pack');
    const second = remote.push('c');
    expect(await source.fetch()).toBe(second);
    expect(await digestOf(source, second)).toBe(`sha256:${'c'.repeat(64)}`);
    // An unchanged tip is one request (protocol v0's ref advertisement), and no fetch.
    const before = server.requests.length;
    expect(await source.fetch()).toBe(second);
    expect(server.requests.slice(before)).toEqual([
      'GET /deploy.git/info/refs?service=git-upload-pack',
    ]);
    const mirror = fs.readdirSync(cacheDir)[0] ?? '';
    expect(fs.existsSync(path.join(cacheDir, mirror, 'shallow'))).toBe(true);
    const reopened = await GitSource.open({
      url: `${server.url}/deploy.git`,
      branch: 'main',
      cacheDir,
    });
    expect(reopened.commit).toBe(second);
  });

  test('an unreachable remote is a clear error and the last good commit stays', async () => {
    const root = path.join(tmp, 'down');
    const remote = makeRemote(root);
    const good = remote.push('a');
    const server = await startGitHttp(root, { user: 'bot', password: 's3cret-token' });
    const url = `${server.url.replace('http://', 'http://bot:s3cret-token@')}/deploy.git`;
    const source = await GitSource.open({ url, branch: 'main', cacheDir: cache() });
    expect(await source.fetch()).toBe(good);
    await server.close();
    const error = await failure(source.fetch());
    expect(error.code).toBe('git-fetch-failed');
    expect(error.message).toContain(
      `fetching ${server.url.replace('http://', 'http://bot:***@')}/deploy.git (branch main) failed:`,
    );
    expect(error.message).not.toContain('s3cret');
    expect(source.commit).toBe(good);
    expect(await digestOf(source, good)).toBe(`sha256:${'a'.repeat(64)}`);
  });

  test('wrong credentials fail without leaking them', async () => {
    const root = path.join(tmp, 'auth');
    makeRemote(root).push('a');
    await using server = await startGitHttp(root, { user: 'bot', password: 'right' });
    const url = `${server.url.replace('http://', 'http://bot:wrong-pass@')}/deploy.git`;
    const source = await GitSource.open({ url, branch: 'main', cacheDir: cache() });
    const error = await failure(source.fetch());
    expect(error.code).toBe('git-fetch-failed');
    expect(error.message).not.toContain('wrong-pass');
    expect(error.message).toContain('bot:***@');
  });

  test('a missing branch and a missing environment file are named', async () => {
    const remote = makeRemote(path.join(tmp, 'branch'));
    const commit = remote.push('a');
    const lost = await GitSource.open({ url: remote.bare, branch: 'release', cacheDir: cache() });
    const error = await failure(lost.fetch());
    expect(error.code).toBe('git-branch-missing');
    expect(error.message).toBe(`${remote.bare} (branch release): no such branch`);
    const source = await GitSource.open({ url: remote.bare, branch: 'main', cacheDir: cache() });
    await source.fetch();
    const missing = await failure(source.readEnvironment(commit, 'staging'));
    expect(missing.code).toBe('environment-missing');
    expect(missing.message).toBe(
      `environments/staging.yaml: not in ${remote.bare} at ${commit.slice(0, 12)}`,
    );
  });
});

describe('maskUrl', () => {
  test('hides passwords and bare tokens, keeps ssh users', () => {
    expect(maskUrl('https://user:pa55@git.example/x.git')).toBe(
      'https://user:***@git.example/x.git',
    );
    expect(maskUrl('https://ghp_token@github.com/x.git')).toBe('https://***@github.com/x.git');
    expect(maskUrl('ssh://git@host/x.git')).toBe('ssh://git@host/x.git');
    expect(maskUrl('git@host:x.git')).toBe('git@host:x.git');
    expect(maskUrl('/srv/git/x.git')).toBe('/srv/git/x.git');
  });
});
