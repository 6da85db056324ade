/**
 * `cairn comment create|update` driven through the real CLI with GitHub Actions and GitLab CI
 * variables pointing octokit and gitbeaker at a fake forge on a loopback port, which checks the
 * paths, auth headers, methods and bodies it receives.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../e2e/helpers.js';
import { startFakeForge, type FakeForge, type Recorded } from './fake-forge.js';

const TOKEN = 'ghs_fake-token-0123456789';
const SHA = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const HEAD_SHA = 'feedface0feedface0feedface0feedface0feed';
/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/AMEdR0wAAAAASUVORK5CYII=',
  'base64',
);

/** Every CI variable the forge code reads, unset, so the parent's CI cannot leak in. */
function ciEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const names = [
    'GITHUB_ACTIONS',
    'GITHUB_REPOSITORY',
    'GITHUB_SHA',
    'GITHUB_EVENT_NAME',
    'GITHUB_EVENT_PATH',
    'GITHUB_API_URL',
    'GITHUB_SERVER_URL',
    'GITHUB_TOKEN',
    'GITHUB_WORKFLOW',
    'GITHUB_RUN_ID',
    'GITLAB_CI',
    'CI_PROJECT_URL',
    'CI_PROJECT_ID',
    'CI_PROJECT_PATH',
    'CI_API_V4_URL',
    'CI_SERVER_URL',
    'CI_MERGE_REQUEST_IID',
    'CI_COMMIT_SHA',
    'CI_PIPELINE_ID',
    'CI_JOB_ID',
    'GITLAB_TOKEN',
    'REPO_TOKEN',
    'repo_token',
  ];
  const env: NodeJS.ProcessEnv = {};
  for (const name of names) env[name] = undefined;
  return { ...env, ...vars };
}

/** GitHub Actions on a pull_request event for PR #7, against the fake's /api/v3. */
function githubPullEnv(sb: Sandbox, forge: FakeForge, extra: Record<string, string> = {}) {
  const event = sb.path('event.json');
  fs.writeFileSync(event, JSON.stringify({ pull_request: { number: 7, head: { sha: HEAD_SHA } } }));
  return ciEnv({
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_SHA: SHA,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event,
    GITHUB_API_URL: `${forge.url}/api/v3`,
    GITHUB_SERVER_URL: forge.url,
    GITHUB_TOKEN: TOKEN,
    ...extra,
  });
}

function gitlabEnv(forge: FakeForge, extra: Record<string, string> = {}) {
  return ciEnv({
    GITLAB_CI: 'true',
    CI_PROJECT_URL: `${forge.url}/acme/churn`,
    CI_PROJECT_ID: '42',
    CI_API_V4_URL: `${forge.url}/api/v4`,
    CI_SERVER_URL: forge.url,
    CI_COMMIT_SHA: SHA,
    GITLAB_TOKEN: TOKEN,
    ...extra,
  });
}

const writes = (forge: FakeForge): Recorded[] => forge.requests.filter((r) => r.method !== 'GET');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const bodyOf = (r: Recorded | undefined): string => (r?.body as { body: string }).body;

function writeReport(sb: Sandbox, text: string): void {
  fs.mkdirSync(sb.path('plots'), { recursive: true });
  fs.writeFileSync(sb.path('plots/roc.png'), PNG);
  fs.writeFileSync(sb.path('report.md'), text);
}

describe('cairn comment on GitHub', () => {
  it('update creates the comment with its images on cairn-assets, then edits it in place', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN, githubPrefix: '/api/v3' });
    const env = githubPullEnv(sb, forge);
    // Someone else's comment, and a Cairn comment with another watermark title: both stay.
    const other = forge.seed({ thread: 'pull/7', body: 'LGTM' });
    writeReport(
      sb,
      '# Report\n\n![ROC](plots/roc.png "roc")\n\n```\n![not an image](plots/roc.png)\n```\n\n![web](https://example.com/x.png)\n',
    );

    const first = await sb.cairnOk(['comment', 'update', 'report.md', '--json'], { env });
    const posted = JSON.parse(first.stdout) as {
      action: string;
      id: number;
      url: string;
      where: string;
    };
    expect(posted).toMatchObject({ action: 'created', where: 'pull request #7' });

    // Every request went to the API URL we gave, with the token as GitHub expects it.
    for (const r of forge.requests) {
      expect(r.path.startsWith('/api/v3/repos/acme/churn/')).toBe(true);
      expect(r.headers.authorization).toBe(`token ${TOKEN}`);
    }
    // The image: blob, tree, parentless commit, branch created; the link pins that commit.
    const commitSha = forge.refs.get('refs/heads/cairn-assets');
    expect(commitSha).toBeDefined();
    const commit = forge.commits.get(commitSha ?? '');
    expect(commit?.parents).toEqual([]);
    const assetPath = `${sha256(PNG)}.png`;
    const entry = forge.trees.get(commit?.tree ?? '')?.find((e) => e.path === assetPath);
    expect(forge.blobs.get(entry?.sha ?? '')?.equals(PNG)).toBe(true);
    const create = writes(forge).find((r) => r.path.endsWith('/issues/7/comments'));
    expect(create?.method).toBe('POST');
    const body = bodyOf(create);
    expect(body).toContain(
      `![ROC](${forge.url}/acme/churn/raw/${commitSha ?? ''}/${assetPath} "roc")`,
    );
    expect(body).toContain('```\n![not an image](plots/roc.png)\n```'); // code is left alone
    expect(body).toContain('![web](https://example.com/x.png)');
    expect(body).toMatch(/<!-- cairn-watermark \{"title":"","sha":"feedface0[0-9a-f]+"\} -->\n$/);
    expect(forge.comments.filter((c) => c.thread === 'pull/7')).toHaveLength(2);

    // A second run with a new image edits the same comment (PATCH), no new comment.
    fs.writeFileSync(sb.path('plots/loss.png'), Buffer.concat([PNG, Buffer.from('x')]));
    fs.appendFileSync(sb.path('report.md'), '\n![loss](plots/loss.png)\n');
    const before = forge.requests.length;
    const second = await sb.cairnOk(['comment', 'update', 'report.md'], { env });
    expect(second.stdout).toContain(`Updated comment ${posted.id} on pull request #7`);
    const later = forge.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(later.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v3/repos/acme/churn/git/blobs', // only the new image
      'POST /api/v3/repos/acme/churn/git/trees',
      'POST /api/v3/repos/acme/churn/git/commits',
      'PATCH /api/v3/repos/acme/churn/git/refs/heads%2Fcairn-assets', // octokit encodes the ref's slash
      `PATCH /api/v3/repos/acme/churn/issues/comments/${posted.id}`,
    ]);
    const tip = forge.refs.get('refs/heads/cairn-assets') ?? '';
    expect(forge.commits.get(tip)?.parents).toEqual([commitSha]);
    const edited = forge.comments.find((c) => c.id === posted.id)?.body ?? '';
    expect(edited).toContain(`![loss](${forge.url}/acme/churn/raw/${tip}/`);
    expect(edited).toContain(`/raw/${tip}/${assetPath}`);
    expect(forge.comments.find((c) => c.id === other.id)?.body).toBe('LGTM');
    expect(forge.comments.filter((c) => c.thread === 'pull/7')).toHaveLength(2);
  });

  it('a job that moved cairn-assets first makes the next one commit again on its tip', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN });
    const env = githubPullEnv(sb, forge, { GITHUB_API_URL: forge.url });
    writeReport(sb, '![a](plots/roc.png)\n');
    await sb.cairnOk(['comment', 'update', 'report.md'], { env });
    fs.writeFileSync(sb.path('plots/roc.png'), Buffer.concat([PNG, Buffer.from('v2')]));
    forge.refUpdatesToRefuse = 1;
    await sb.cairnOk(['comment', 'update', 'report.md'], { env });
    const moves = forge.requests.filter(
      (r) => r.method === 'PATCH' && r.path.includes('/git/refs/'),
    );
    expect(moves).toHaveLength(2); // refused once, then taken
    const tip = forge.refs.get('refs/heads/cairn-assets') ?? '';
    expect(forge.comments[0]?.body).toContain(`/raw/${tip}/`);

    forge.refUpdatesToRefuse = 3;
    fs.writeFileSync(sb.path('plots/roc.png'), Buffer.concat([PNG, Buffer.from('v3')]));
    const stuck = await sb.cairn(['comment', 'update', 'report.md'], { env });
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain('GitHub answered 422 while moving the cairn-assets branch');
  });

  it('a different --watermark-title keeps its own comment; create always adds one', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN });
    const env = githubPullEnv(sb, forge, { GITHUB_API_URL: forge.url, GITHUB_RUN_ID: '99' });
    fs.writeFileSync(sb.path('report.md'), 'no images here\n');
    await sb.cairnOk(['comment', 'update', 'report.md'], { env });
    await sb.cairnOk(['comment', 'update', 'report.md', '--watermark-title', 'gpu {run}'], { env });
    await sb.cairnOk(['comment', 'update', 'report.md', '--watermark-title', 'gpu {run}'], { env });
    expect(forge.comments).toHaveLength(2);
    expect(forge.comments[1]?.body).toContain('"title":"gpu 99"');
    await sb.cairnOk(['comment', 'create', 'report.md'], { env });
    expect(forge.comments).toHaveLength(3);
    // No images: the asset branch is never touched.
    expect(forge.requests.some((r) => r.path.includes('/git/'))).toBe(false);
  });

  it('outside a pull_request event, auto finds the PR of the commit or comments on the commit', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN, pullsByCommit: { [SHA]: 12 } });
    const push = ciEnv({
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/churn',
      GITHUB_SHA: SHA,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_API_URL: forge.url,
      REPO_TOKEN: TOKEN,
    });
    fs.writeFileSync(sb.path('report.md'), 'hello\n');
    await sb.cairnOk(['comment', 'create', 'report.md'], { env: push });
    expect(forge.comments.map((c) => c.thread)).toEqual(['pull/12']);

    await sb.cairnOk(['comment', 'update', 'report.md', '--target', 'commit'], { env: push });
    await sb.cairnOk(['comment', 'update', 'report.md', '--target', 'commit'], { env: push });
    expect(forge.comments.map((c) => c.thread)).toEqual(['pull/12', `commit/${SHA}`]);
    expect(
      writes(forge)
        .map((r) => `${r.method} ${r.path}`)
        .slice(-2),
    ).toEqual([
      `POST /repos/acme/churn/commits/${SHA}/comments`,
      `PATCH /repos/acme/churn/comments/${forge.comments[1]?.id ?? 0}`,
    ]);

    await sb.cairnOk(['comment', 'create', 'report.md', '--target', 'issue#5'], { env: push });
    expect(writes(forge).at(-1)?.path).toBe('/repos/acme/churn/issues/5/comments');
  });
});

describe('cairn comment on GitLab', () => {
  it('posts a merge request note with uploaded images, then PUTs the same note', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN });
    const env = gitlabEnv(forge, { CI_MERGE_REQUEST_IID: '3', CI_PIPELINE_ID: '555' });
    // DVCLive writes data URIs; forges do not render them in comments, so they are uploaded too.
    writeReport(
      sb,
      `Metrics\n\n<img src="plots/roc.png" width="300">\n\n![inline](data:image/png;base64,${PNG.toString('base64')})\n`,
    );

    const first = await sb.cairnOk(
      ['comment', 'update', 'report.md', '--watermark-title', 'pipeline {workflow}', '--json'],
      { env },
    );
    const posted = JSON.parse(first.stdout) as {
      id: number;
      url: string;
      images: { url: string }[];
    };
    for (const r of forge.requests) {
      expect(r.path.startsWith('/api/v4/projects/42/')).toBe(true);
      expect(r.headers['private-token']).toBe(TOKEN);
    }
    const upload = forge.requests.find((r) => r.path === '/api/v4/projects/42/uploads');
    expect(upload?.method).toBe('POST');
    // The data URI holds the same bytes as roc.png: one upload serves both links.
    expect(forge.uploads.size).toBe(1);
    const [uploadUrl, stored] = [...forge.uploads.entries()][0] ?? [];
    expect(stored?.bytes.equals(PNG)).toBe(true);
    expect(stored?.filename).toBe('roc.png');
    expect(posted.images.map((i) => i.url)).toEqual([uploadUrl, uploadUrl]);
    expect(posted.url).toBe(`${forge.url}/acme/churn/-/merge_requests/3#note_${posted.id}`);
    const note = forge.comments.find((c) => c.id === posted.id);
    expect(note?.thread).toBe('pull/3');
    expect(note?.body).toContain(`<img src="${uploadUrl ?? ''}" width="300">`);
    expect(note?.body).toContain(`![inline](${uploadUrl ?? ''})`);
    expect(note?.body).not.toContain('base64');
    expect(note?.body).toContain('"title":"pipeline 555"');

    fs.writeFileSync(sb.path('report.md'), 'Metrics changed\n');
    const second = await sb.cairnOk(
      ['comment', 'update', 'report.md', '--watermark-title', 'pipeline {workflow}'],
      { env },
    );
    expect(second.stdout).toContain(`Updated comment ${posted.id} on merge request !3`);
    expect(writes(forge).at(-1)).toMatchObject({
      method: 'PUT',
      path: `/api/v4/projects/42/merge_requests/3/notes/${posted.id}`,
    });
    expect(forge.comments).toHaveLength(1);
    expect(forge.comments[0]?.body).toMatch(/^Metrics changed\n\n<!-- cairn-watermark /);
  });

  it('comments on a commit through a discussion it can edit later', async () => {
    await using sb = await createSandbox();
    // Self-hosted under a relative URL root: gitbeaker must keep the /gitlab prefix.
    await using forge = await startFakeForge({ token: TOKEN, gitlabPrefix: '/gitlab' });
    const env = gitlabEnv(forge, {
      CI_PROJECT_ID: '',
      CI_PROJECT_PATH: 'acme/churn',
      CI_API_V4_URL: `${forge.url}/gitlab/api/v4`,
    });
    fs.writeFileSync(sb.path('report.md'), 'first ![gone](plots/gone.png)\n');
    const first = await sb.cairnOk(['comment', 'update', 'report.md'], { env });
    // An image that names no file is reported and left as written, as CML does.
    expect(first.stderr).toContain('image plots/gone.png names no file next to report.md');
    expect(forge.comments[0]?.body).toMatch(/^first !\[gone\]\(plots\/gone\.png\)\n/);
    expect(forge.uploads.size).toBe(0);
    fs.writeFileSync(sb.path('report.md'), 'second\n');
    await sb.cairnOk(['comment', 'update', 'report.md'], { env });
    const [note] = forge.comments;
    expect(forge.comments).toHaveLength(1);
    expect(note?.body).toMatch(/^second\n/);
    const project = 'acme%2Fchurn';
    expect(writes(forge).map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /gitlab/api/v4/projects/${project}/repository/commits/${SHA}/discussions`,
      `PUT /gitlab/api/v4/projects/${project}/repository/commits/${SHA}/discussions/${note?.discussionId ?? ''}/notes/${note?.id ?? 0}`,
    ]);
  });
});

describe('cairn comment refuses bad input clearly', () => {
  it('says which variable to set when no token is there, and never prints a token', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN });
    fs.writeFileSync(sb.path('report.md'), 'x\n');

    const missing = await sb.cairn(['comment', 'create', 'report.md'], {
      env: { ...githubPullEnv(sb, forge), GITHUB_TOKEN: undefined },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'no GitHub token: none of REPO_TOKEN, repo_token, GITHUB_TOKEN is set',
    );

    const gitlab = await sb.cairn(['comment', 'create', 'report.md'], {
      env: { ...gitlabEnv(forge, { CI_MERGE_REQUEST_IID: '3' }), GITLAB_TOKEN: undefined },
    });
    expect(gitlab.code).toBe(1);
    expect(gitlab.stderr).toContain('REPO_TOKEN, repo_token, GITLAB_TOKEN');
    expect(gitlab.stderr).toContain('CI_JOB_TOKEN cannot write comments');

    const wrong = 'ghs_wrong-secret-value';
    const rejected = await sb.cairn(['comment', 'create', 'report.md'], {
      env: githubPullEnv(sb, forge, { GITHUB_API_URL: forge.url, GITHUB_TOKEN: wrong }),
    });
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('GitHub rejected the token in GITHUB_TOKEN (401)');
    expect(rejected.stderr + rejected.stdout).not.toContain(wrong);

    const glRejected = await sb.cairn(['comment', 'create', 'report.md'], {
      env: gitlabEnv(forge, { CI_MERGE_REQUEST_IID: '3', GITLAB_TOKEN: wrong }),
    });
    expect(glRejected.code).toBe(1);
    expect(glRejected.stderr).toContain('GitLab rejected the token in GITLAB_TOKEN (401)');
    expect(glRejected.stderr).not.toContain(wrong);
  });

  it('says a 403 is a permissions problem', async () => {
    await using sb = await createSandbox();
    await using forge = await startFakeForge({ token: TOKEN, forbidWrites: true });
    fs.writeFileSync(sb.path('report.md'), 'x\n');
    const env = githubPullEnv(sb, forge, { GITHUB_API_URL: forge.url });
    const r = await sb.cairn(['comment', 'create', 'report.md'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'GitHub refused the token in GITHUB_TOKEN (403) while creating a comment on pull request #7',
    );
    expect(r.stderr).toContain('pull-requests: write');
  });

  it('outside CI: asks for --driver, then --target; a missing report is named', async () => {
    await using sb = await createSandbox();
    fs.writeFileSync(sb.path('report.md'), 'x\n');
    const none = await sb.cairn(['comment', 'create', 'report.md'], { env: ciEnv({}) });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('not running in GitHub Actions or GitLab CI');
    expect(none.stderr).toContain('--driver');

    const both = await sb.cairn(['comment', 'create', 'report.md'], {
      env: ciEnv({ GITHUB_ACTIONS: 'true', GITLAB_CI: 'true' }),
    });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('Pass --driver github or --driver gitlab');

    const noTarget = await sb.cairn(
      ['comment', 'create', 'report.md', '--driver', 'github', '--repo', 'acme/churn'],
      { env: ciEnv({ REPO_TOKEN: TOKEN, GITHUB_API_URL: 'http://127.0.0.1:9' }) },
    );
    expect(noTarget.code).toBe(1);
    expect(noTarget.stderr).toContain('cannot tell which pull/merge request to comment on');
    expect(noTarget.stderr).toContain('pass --target pr#N, issue#N or commit#SHA');

    const badTarget = await sb.cairn(['comment', 'create', 'report.md', '--target', 'pr#x'], {
      env: ciEnv({}),
    });
    expect(badTarget.code).toBe(1);
    expect(badTarget.stderr).toContain(
      '--target pr#x: expected auto, pr, commit, pr#N, issue#N or commit#SHA',
    );

    const noFile = await sb.cairn(['comment', 'update', 'nope.md'], { env: ciEnv({}) });
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toMatch(/nope\.md does not exist/);
  });

  it('names the API it cannot reach', async () => {
    await using sb = await createSandbox();
    fs.writeFileSync(sb.path('report.md'), 'x\n');
    const r = await sb.cairn(['comment', 'create', 'report.md', '--target', 'pr#1'], {
      env: ciEnv({
        GITHUB_REPOSITORY: 'acme/churn',
        GITHUB_API_URL: 'http://127.0.0.1:9',
        REPO_TOKEN: TOKEN,
      }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach GitHub at http://127.0.0.1:9');
  });
});
