/**
 * `cairn deploy`, `promote`, `rollback`, `history` and `render k8s` driven through the real CLI
 * in a temp git repository, with ModelKits packed into the sandbox's own local store.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../e2e/helpers.js';

async function packKit(sb: Sandbox, tag: string, weights: string): Promise<string> {
  const dir = sb.path(`kit-${weights}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/model.onnx`, `not really onnx: ${weights}\n`);
  fs.writeFileSync(
    `${dir}/Kitfile`,
    'manifestVersion: "1.0"\npackage:\n  name: churn-pkg\nmodel:\n  name: churn\n  path: model.onnx\n',
  );
  const out = await sb.cairnOk(['pack', dir, '-t', tag, '--json']);
  const digest = /sha256:[0-9a-f]{64}/.exec(out.stdout)?.[0];
  if (digest === undefined) throw new Error(`no digest in ${out.stdout}`);
  return digest;
}

describe('GitOps commands', () => {
  it('deploy resolves a tag to its digest and commits it; history, rollback and promote follow', async () => {
    await using sb = await createSandbox();
    await sb.git(['commit', '--allow-empty', '-qm', 'start']);
    const head = (await sb.git(['rev-parse', 'HEAD'])).trim();
    const v1 = await packKit(sb, 'acme/churn:v1', 'one');
    const v2 = await packKit(sb, 'acme/churn:v2', 'two');

    const first = await sb.cairnOk(['deploy', 'prod', 'acme/churn:v1', '--json']);
    const committed = JSON.parse(first.stdout) as {
      commit: string;
      changes: { model: string; modelkit: string }[];
    };
    // The sandbox is a git repository, so the ModelKit names the commit it was packed from.
    expect(committed.changes).toEqual([
      { model: 'churn', modelkit: `localhost/acme/churn@${v1}`, sourceCommit: head },
    ]);
    expect(await sb.git(['log', '-1', '--format=%B'])).toContain(`built from ${head}`);
    expect(fs.readFileSync(sb.path('environments/prod.yaml'), 'utf8')).toContain(
      `modelkit: localhost/acme/churn@${v1}`,
    );
    expect(await sb.git(['log', '-1', '--format=%s'])).toMatch(/^deploy\(prod\): churn -> /);

    const second = await sb.cairnOk(['deploy', 'prod', 'acme/churn:v2']);
    expect(second.stdout).toContain('Deployed prod in commit');
    expect(second.stdout).toContain(
      `churn: localhost/acme/churn@${v1.slice(0, 19)}… -> localhost/acme/churn@${v2}`,
    );

    const history = JSON.parse((await sb.cairnOk(['history', 'prod', '--json'])).stdout) as {
      action: string;
      models: Record<string, string>;
    }[];
    expect(history.map((h) => [h.action, h.models.churn])).toEqual([
      ['deploy', `localhost/acme/churn@${v2}`],
      ['deploy', `localhost/acme/churn@${v1}`],
    ]);

    await sb.cairnOk(['rollback', 'prod']);
    expect(fs.readFileSync(sb.path('environments/prod.yaml'), 'utf8')).toContain(v1);
    expect((await sb.cairnOk(['history', 'prod'])).stdout.split('\n')[0]).toMatch(/rollback/);

    await sb.cairnOk(['deploy', 'staging', 'acme/churn:v2']);
    await sb.cairnOk(['promote', 'staging', 'prod']);
    expect(fs.readFileSync(sb.path('environments/prod.yaml'), 'utf8')).toContain(v2);

    const rendered = await sb.cairnOk(['render', 'k8s', 'prod', '-o', '-']);
    expect(rendered.stdout).toContain(`localhost/acme/churn@${v2}`);
    expect(rendered.stdout).toContain('kind: Deployment');
    const written = await sb.cairnOk(['render', 'k8s', 'prod']);
    expect(written.stdout).toContain('kustomization.yaml');
    expect(fs.existsSync(sb.path('deploy/prod/churn.yaml'))).toBe(true);
  });

  it('bad input: an unknown reference, a revision that does not exist, no git repository', async () => {
    await using sb = await createSandbox();
    await sb.git(['commit', '--allow-empty', '-qm', 'start']);
    const missing = await sb.cairn(['deploy', 'prod', 'acme/nothing:v1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('acme/nothing:v1 is not in the local store');
    expect(fs.existsSync(sb.path('environments'))).toBe(false);

    await packKit(sb, 'acme/churn:v1', 'one');
    await sb.cairnOk(['deploy', 'prod', 'acme/churn:v1']);
    const before = fs.readFileSync(sb.path('environments/prod.yaml'), 'utf8');
    const bad = await sb.cairn(['rollback', 'prod', '--to', 'no-such-revision']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("revision 'no-such-revision' does not exist");
    expect(fs.readFileSync(sb.path('environments/prod.yaml'), 'utf8')).toBe(before);

    await using outside = await createSandbox({ git: false });
    const noRepo = await outside.cairn(['history', 'prod']);
    expect(noRepo.code).toBe(1);
    expect(noRepo.stderr).toContain('is not inside a git repository');
  });

  it('deploy --canary writes rollout.steps beside the digest, and --push sends the commit upstream', async () => {
    await using sb = await createSandbox();
    const upstream = sb.path('../upstream.git');
    await sb.exec('git', ['init', '-q', '--bare', '-b', 'main', upstream]);
    await sb.git(['commit', '--allow-empty', '-qm', 'start']);
    await sb.git(['remote', 'add', 'origin', upstream]);
    await sb.git(['push', '-q', '-u', 'origin', 'main']);
    const v1 = await packKit(sb, 'acme/churn:v1', 'one');
    const v2 = await packKit(sb, 'acme/churn:v2', 'two');

    const first = await sb.cairnOk(['deploy', 'prod', 'acme/churn:v1', '--push']);
    expect(first.stdout).toContain('Pushed to origin refs/heads/main.');
    const head = async () => (await sb.git(['rev-parse', 'HEAD'])).trim();
    const remoteHead = async () =>
      (await sb.exec('git', ['--git-dir', upstream, 'rev-parse', 'main'])).stdout.trim();
    expect(await remoteHead()).toBe(await head());

    const canary = await sb.cairnOk([
      'deploy',
      'prod',
      'acme/churn:v2',
      '--canary',
      '10,50:30s',
      '--push',
      '--json',
    ]);
    const committed = JSON.parse(canary.stdout) as {
      commit: string;
      pushed: { remote: string; ref: string };
      changes: { canary: unknown }[];
    };
    expect(committed.pushed).toEqual({ remote: 'origin', ref: 'refs/heads/main' });
    expect(committed.changes[0]?.canary).toEqual([{ weight: 10 }, { weight: 50, pause: '30s' }]);
    expect(await remoteHead()).toBe(committed.commit);
    const manifest = (
      await sb.exec('git', ['--git-dir', upstream, 'show', 'main:environments/prod.yaml'])
    ).stdout;
    expect(manifest).toContain(`modelkit: localhost/acme/churn@${v2}`);
    expect(manifest).toContain(
      [
        '      rollout:',
        '        steps:',
        '          - setWeight: 10',
        '          - analysis: {}',
        '          - setWeight: 50',
        '          - pause: { duration: 30s }',
        '        analysis: { maxErrorRate: 1 }',
      ].join('\n'),
    );
    const message = await sb.git(['log', '-1', '--format=%B']);
    expect(message).toContain('Cairn-Canary: churn=10,50:30s');
    expect(message).toContain('(canary 10,50:30s)');

    // Someone else pushes first: the push is refused, the local commit stays, and says so.
    const other = sb.path('../other');
    await sb.exec('git', ['clone', '-q', upstream, other]);
    await sb.exec('git', ['-C', other, 'commit', '--allow-empty', '-qm', 'theirs'], {
      env: {
        GIT_AUTHOR_NAME: 'B',
        GIT_AUTHOR_EMAIL: 'b@x',
        GIT_COMMITTER_NAME: 'B',
        GIT_COMMITTER_EMAIL: 'b@x',
      },
    });
    await sb.exec('git', ['-C', other, 'push', '-q', 'origin', 'main']);
    const theirs = await remoteHead();
    const rejected = await sb.cairn(['rollback', 'prod', '--push']);
    expect(rejected.code).toBe(1);
    const mine = await head();
    expect(rejected.stderr).toContain(
      `committed ${mine.slice(0, 12)} locally, but pushing it to origin refs/heads/main failed`,
    );
    expect(rejected.stderr).toContain('rejected');
    expect(rejected.stderr).toContain('git pull --rebase');
    expect(await remoteHead()).toBe(theirs);
    expect(await sb.git(['log', '-1', '--format=%s'])).toMatch(/^rollback\(prod\)/);
    expect(await sb.git(['show', 'HEAD:environments/prod.yaml'])).toContain(v1);

    // A branch without an upstream fails before committing anything.
    await sb.git(['switch', '-q', '-c', 'local-only']);
    const noUpstream = await sb.cairn(['deploy', 'prod', 'acme/churn:v2', '--push']);
    expect(noUpstream.code).toBe(1);
    expect(noUpstream.stderr).toContain("--push: branch 'local-only' has no upstream");
    expect(await head()).toBe(mine);

    const bad = await sb.cairn(['deploy', 'prod', 'acme/churn:v2', '--canary', '50,10']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--canary weight 10 does not step up from 50');
    expect(await head()).toBe(mine);
  });
});
