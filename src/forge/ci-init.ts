/**
 * `cairn ci init github|gitlab`: the CI file that, on every pull/merge request, installs Cairn,
 * reproduces the pipeline, writes the report against the target branch and comments it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { createFileAtomic, writeFileAtomic } from '../core/fs.js';
import { git } from '../core/git.js';
import type { ForgeKind } from './env.js';

/** What `npm install --global` installs unless `--package` says otherwise. */
export const DEFAULT_PACKAGE = 'cairn';

/** Where each forge reads its CI definition, relative to the repository root. */
export const CI_FILES: Record<ForgeKind, string> = {
  github: '.github/workflows/cairn.yaml',
  gitlab: '.gitlab-ci.yml',
};

/** A word for a shell command line: as is when plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./~^-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A YAML scalar: JSON's double-quoted string is valid YAML. */
const yamlString = (text: string): string => JSON.stringify(text);

export function githubWorkflow(pkg: string): string {
  return `# Written by \`cairn ci init github\` (docs/ci-reports.md): on every pull request, reproduce
# the pipeline and comment its metrics, params and plots against the base branch. Cairn updates
# its own comment on each push instead of adding a new one.
name: cairn report
on:
  pull_request:
permissions:
  contents: write # report images are committed to the cairn-assets branch
  pull-requests: write # the report comment
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0 # the base branch, for the diff
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - name: Install Cairn
        run: ${yamlString(`npm install --global ${shellWord(pkg)}`)}
      # Fetch the data your pipeline needs here (cairn pull, or your own step).
      - name: Reproduce the pipeline
        run: cairn repro
      - name: Write the report
        env:
          BASE: \${{ github.base_ref }}
        run: cairn report --base "origin/$BASE" -o report.md
      - name: Comment on the pull request
        env:
          REPO_TOKEN: \${{ secrets.GITHUB_TOKEN }}
        run: cairn comment update report.md
`;
}

export function gitlabPipeline(pkg: string): string {
  return `# Written by \`cairn ci init gitlab\` (docs/ci-reports.md): on every merge request, reproduce
# the pipeline and comment its metrics, params and plots against the target branch. Cairn
# updates its own comment on each push instead of adding a new one.
# Needs a masked CI/CD variable REPO_TOKEN holding a project access token with the api scope
# (CI_JOB_TOKEN cannot write merge request comments).
cairn-report:
  image: node:20
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
  variables:
    GIT_DEPTH: "0"
  script:
    - ${yamlString(`npm install --global ${shellWord(pkg)}`)}
    - git fetch origin "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"
    # Fetch the data your pipeline needs here (cairn pull, or your own step).
    - cairn repro
    - cairn report --base "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" -o report.md
    - cairn comment update report.md
`;
}

export interface CiInitOptions {
  cwd: string;
  forge: ForgeKind;
  /** replace an existing file */
  force: boolean;
  /** the npm install spec for Cairn (a name, name@version, a git URL or a tarball) */
  package?: string;
}

export interface CiInitResult {
  forge: ForgeKind;
  /** absolute path of the file written */
  file: string;
  /** an existing file was replaced (--force) */
  replaced: boolean;
}

async function repositoryRoot(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ['rev-parse', '--show-toplevel'])).trim();
  } catch (error) {
    throw new CairnError('not-a-git-repo', `${path.resolve(cwd)} is not inside a git repository`, {
      hint: 'CI files live at the root of a git repository: run `git init` first.',
      cause: error,
    });
  }
}

export async function ciInit(o: CiInitOptions): Promise<CiInitResult> {
  const root = await repositoryRoot(o.cwd);
  const file = path.join(root, CI_FILES[o.forge]);
  const pkg = o.package ?? DEFAULT_PACKAGE;
  const text = o.forge === 'github' ? githubWorkflow(pkg) : gitlabPipeline(pkg);
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (o.force) {
    const replaced = await fs.stat(file).then(
      () => true,
      () => false,
    );
    await writeFileAtomic(file, text);
    return { forge: o.forge, file, replaced };
  }
  if (!(await createFileAtomic(file, text)))
    throw new CairnError('exists', `${file} already exists`, {
      hint: 'Pass --force to replace it, or add the steps to it by hand (docs/ci-reports.md).',
    });
  return { forge: o.forge, file, replaced: false };
}
