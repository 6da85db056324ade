/**
 * `cairn ci init github|gitlab` through the real CLI: the files it writes parse as YAML with
 * the jobs and steps that report on every pull/merge request, and it never overwrites silently.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createSandbox } from '../e2e/helpers.js';

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>;
}
interface GitlabJob {
  image: string;
  rules: { if: string }[];
  variables: Record<string, string>;
  script: string[];
}

/** The index of the first entry matching, or -1; for order checks. */
const at = (lines: string[], pattern: RegExp): number => lines.findIndex((l) => pattern.test(l));

describe('cairn ci init', () => {
  it('github: a pull_request workflow that repros, reports and updates its comment', async () => {
    await using sb = await createSandbox();
    fs.mkdirSync(sb.path('src'));
    const r = await sb.cairnOk(['ci', 'init', 'github'], { cwd: sb.path('src') });
    expect(r.stdout).toContain('Wrote ../.github/workflows/cairn.yaml');
    const text = fs.readFileSync(sb.path('.github/workflows/cairn.yaml'), 'utf8');
    const wf = parse(text) as Workflow;
    expect(Object.keys(wf.on)).toEqual(['pull_request']);
    expect(wf.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    const steps = wf.jobs.report?.steps ?? [];
    expect(steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
    const runs = steps.map((s) => s.run ?? '');
    const install = at(runs, /^npm install --global cairn$/);
    const repro = at(runs, /^cairn repro$/);
    const report = at(runs, /^cairn report --base "origin\/\$BASE" -o report\.md$/);
    const comment = at(runs, /^cairn comment update report\.md$/);
    expect([install, repro, report, comment].every((i) => i >= 0)).toBe(true);
    expect(install < repro && repro < report && report < comment).toBe(true);
    expect(steps[report]?.env).toEqual({ BASE: '${{ github.base_ref }}' });
    expect(steps[comment]?.env).toEqual({ REPO_TOKEN: '${{ secrets.GITHUB_TOKEN }}' });

    // A second init refuses and leaves the file alone; --force replaces it.
    fs.writeFileSync(sb.path('.github/workflows/cairn.yaml'), 'mine\n');
    const again = await sb.cairn(['ci', 'init', 'github']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('cairn.yaml already exists');
    expect(again.stderr).toContain('--force');
    expect(fs.readFileSync(sb.path('.github/workflows/cairn.yaml'), 'utf8')).toBe('mine\n');
    const forced = await sb.cairnOk(['ci', 'init', 'github', '--force', '--json']);
    expect(JSON.parse(forced.stdout)).toMatchObject({ forge: 'github', replaced: true });
    expect(fs.readFileSync(sb.path('.github/workflows/cairn.yaml'), 'utf8')).toBe(text);
  });

  it('gitlab: a merge request job; --package is quoted for the shell', async () => {
    await using sb = await createSandbox();
    const spec = 'github:acme/cairn#v1.2';
    await sb.cairnOk(['ci', 'init', 'gitlab', '--package', spec]);
    const doc = parse(fs.readFileSync(sb.path('.gitlab-ci.yml'), 'utf8')) as Record<
      string,
      GitlabJob
    >;
    const job = doc['cairn-report'];
    expect(job?.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(job?.variables).toEqual({ GIT_DEPTH: '0' });
    const script = job?.script ?? [];
    expect(script[0]).toBe(`npm install --global '${spec}'`);
    const repro = at(script, /^cairn repro$/);
    const report = at(
      script,
      /^cairn report --base "origin\/\$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" -o report\.md$/,
    );
    const comment = at(script, /^cairn comment update report\.md$/);
    expect(repro > 0 && report > repro && comment > report).toBe(true);

    const again = await sb.cairn(['ci', 'init', 'gitlab']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('.gitlab-ci.yml already exists');
  });

  it('refuses an unknown forge and a folder outside git', async () => {
    await using sb = await createSandbox();
    const unknown = await sb.cairn(['ci', 'init', 'bitbucket']);
    expect(unknown.code).toBe(2); // a usage error
    expect(unknown.stderr).toContain('Allowed choices are github, gitlab');
    await using plain = await createSandbox({ git: false });
    const noGit = await plain.cairn(['ci', 'init', 'github']);
    expect(noGit.code).toBe(1);
    expect(noGit.stderr).toContain('is not inside a git repository');
  });
});
