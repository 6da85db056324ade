import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CairnError } from '../core/errors.js';
import { deploy, history, promote, rollback } from './operations.js';

const kit = (n: string) => `registry.local:5000/acme/churn@sha256:${n.repeat(64)}`;
let root: string;

const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  });
const read = (env: string) =>
  fs.readFileSync(path.join(root, 'environments', `${env}.yaml`), 'utf8');

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-gitops-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Ada Lovelace');
  git('config', 'user.email', 'ada@example.org');
  fs.writeFileSync(path.join(root, 'README.md'), 'ml\n');
  git('add', 'README.md');
  git('commit', '-qm', 'init');
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('deploy, promote, rollback and history are git commits', () => {
  test('a first deploy creates the manifest and commits it alone, naming model, digest, source and who', async () => {
    fs.writeFileSync(path.join(root, 'notes.txt'), 'staged, not mine\n');
    git('add', 'notes.txt');
    const result = await deploy(root, 'prod', {
      modelkit: kit('a'),
      modelName: 'churn',
      sourceCommit: 'f'.repeat(40),
    });
    expect(result.changes).toEqual([
      { model: 'churn', modelkit: kit('a'), sourceCommit: 'f'.repeat(40) },
    ]);
    expect(read('prod')).toContain(`    churn:\n      modelkit: ${kit('a')}\n`);
    const message = git('log', '-1', '--format=%B');
    expect(message).toContain(
      'deploy(prod): churn -> registry.local:5000/acme/churn@sha256:aaaaaaaaaaaa',
    );
    expect(message).toContain(`Cairn-Model: churn=${kit('a')}`);
    expect(message).toContain(`Cairn-Source-Commit: churn=${'f'.repeat(40)}`);
    expect(message).toContain('Cairn-By: Ada Lovelace <ada@example.org>');
    expect(git('show', '--name-only', '--format=', 'HEAD').trim()).toBe('environments/prod.yaml');
    expect(git('diff', '--cached', '--name-only').trim()).toBe('notes.txt');
  });

  test('a second deploy replaces the digest in place and keeps comments and layout', async () => {
    await deploy(root, 'prod', { modelkit: kit('a'), modelName: 'churn' });
    const edited = read('prod').replace(
      `modelkit: ${kit('a')}`,
      `modelkit: ${kit('a')}   # pinned by the on-call\n      threads:   2`,
    );
    fs.writeFileSync(path.join(root, 'environments', 'prod.yaml'), `# team: risk\n${edited}`);
    git('commit', '-qam', 'tune threads');
    await deploy(root, 'prod', { modelkit: kit('b'), modelName: 'churn' });
    expect(read('prod')).toBe(`# team: risk\n${edited}`.replace(kit('a'), kit('b')));
    expect(git('log', '-1', '--format=%b')).toContain(
      `- churn: registry.local:5000/acme/churn@sha256:aaaaaaaaaaaa -> ${kit('b')}`,
    );
  });

  test('promote copies what staging runs into prod as one commit', async () => {
    await deploy(root, 'staging', { modelkit: kit('b'), modelName: 'churn' });
    await deploy(root, 'staging', { modelkit: kit('c'), modelName: 'fraud' });
    await deploy(root, 'prod', { modelkit: kit('a'), modelName: 'churn' });
    const result = await promote(root, 'staging', 'prod');
    expect(result.changes.map((c) => [c.model, c.modelkit])).toEqual([
      ['churn', kit('b')],
      ['fraud', kit('c')],
    ]);
    expect(
      git('log', '-1', '--format=%(trailers:key=Cairn-Promoted-From,valueonly)').trim(),
    ).toMatch(/^staging@[0-9a-f]{40}$/);
  });

  test('rollback commits the earlier digests back, by default those before the latest change', async () => {
    await deploy(root, 'prod', { modelkit: kit('a'), modelName: 'churn' });
    const first = git('rev-parse', 'HEAD').trim();
    await deploy(root, 'prod', { modelkit: kit('b'), modelName: 'churn' });
    await rollback(root, 'prod');
    expect(read('prod')).toContain(kit('a'));
    expect(git('log', '-1', '--format=%(trailers:key=Cairn-Rollback-To,valueonly)').trim()).toBe(
      first,
    );
    await deploy(root, 'prod', { modelkit: kit('c'), modelName: 'churn' });
    await rollback(root, 'prod', first);
    expect(read('prod')).toContain(kit('a'));
    const again = await rollback(root, 'prod', first).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CairnError);
    expect((again as CairnError).message).toContain('already declares the digests');
    const bad = await rollback(root, 'prod', 'no-such-rev').catch((e: unknown) => e);
    expect((bad as CairnError).message).toBe("revision 'no-such-rev' does not exist");
  });

  test('history lists every change, newest first, hand edits included', async () => {
    await deploy(root, 'prod', { modelkit: kit('a'), modelName: 'churn' });
    await deploy(root, 'prod', { modelkit: kit('b'), modelName: 'churn' });
    fs.writeFileSync(
      path.join(root, 'environments', 'prod.yaml'),
      read('prod').replace(kit('b'), kit('d')),
    );
    git('commit', '-qam', 'hotfix by hand');
    await rollback(root, 'prod');
    const entries = await history(root, 'prod');
    expect(entries.map((e) => [e.action, e.models.churn])).toEqual([
      ['rollback', kit('b')],
      ['edit', kit('d')],
      ['deploy', kit('b')],
      ['deploy', kit('a')],
    ]);
    expect(entries[1]?.subject).toBe('hotfix by hand');
    expect(entries[0]?.author).toBe('Ada Lovelace <ada@example.org>');
  });

  test('a deploy that would leave an invalid manifest writes and commits nothing', async () => {
    await deploy(root, 'prod', { modelkit: kit('a'), modelName: 'churn' });
    const before = read('prod');
    const head = git('rev-parse', 'HEAD');
    const error = await deploy(root, 'prod', {
      modelkit: 'acme/churn:latest',
      modelName: 'churn',
    }).catch((e: unknown) => e);
    expect((error as CairnError).message).toMatch(
      /^environments\/prod\.yaml:\d+:\d+: model 'churn' names acme\/churn:latest without a digest/,
    );
    expect(read('prod')).toBe(before);
    expect(git('rev-parse', 'HEAD')).toBe(head);
  });
});
