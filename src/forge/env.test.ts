import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readForgeContext } from './env.js';

describe('the CI context', () => {
  it('GitHub Enterprise: the API under the server, the PR and its head from the event', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-env-'));
    const event = path.join(dir, 'event.json');
    fs.writeFileSync(event, JSON.stringify({ pull_request: { number: 4, head: { sha: 'abc' } } }));
    const ctx = await readForgeContext({
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_SERVER_URL: 'https://ghe.example.com/',
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: event,
      GITHUB_SHA: 'merge',
      GITHUB_TOKEN: 't1',
      REPO_TOKEN: 't2',
    });
    fs.rmSync(dir, { recursive: true });
    expect(ctx).toMatchObject({
      kind: 'github',
      apiUrl: 'https://ghe.example.com/api/v3',
      serverUrl: 'https://ghe.example.com',
      pull: 4,
      sha: 'abc',
      token: 't2',
      tokenVariable: 'REPO_TOKEN',
    });
  });

  it('a push event has no pull request; github.com is the default', async () => {
    const ctx = await readForgeContext({
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: '/nonexistent',
      GITHUB_SHA: 'def',
      GITHUB_TOKEN: 't',
    });
    expect(ctx).toMatchObject({ apiUrl: 'https://api.github.com', sha: 'def' });
    expect(ctx.pull).toBeUndefined();
  });

  it('self-hosted GitLab from CI_SERVER_URL; --repo and --driver win', async () => {
    const ctx = await readForgeContext(
      { CI_SERVER_URL: 'https://git.example.org', CI_MERGE_REQUEST_IID: '9', GITLAB_TOKEN: 't' },
      { driver: 'gitlab', repo: 'grp/proj' },
    );
    expect(ctx).toMatchObject({
      kind: 'gitlab',
      apiUrl: 'https://git.example.org/api/v4',
      repo: 'grp/proj',
      projectUrl: 'https://git.example.org/grp/proj',
      pull: 9,
    });
    await expect(
      readForgeContext({
        GITLAB_CI: 'true',
        CI_PROJECT_ID: '1',
        CI_MERGE_REQUEST_IID: 'x',
        GITLAB_TOKEN: 't',
      }),
    ).rejects.toThrow("CI_MERGE_REQUEST_IID is 'x', not a number");
    await expect(
      readForgeContext({ GITHUB_REPOSITORY: 'not-a-repo', GITHUB_TOKEN: 't' }),
    ).rejects.toThrow("'not-a-repo' is not owner/name");
  });
});
