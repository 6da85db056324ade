/**
 * Where a CI run lives, read from its environment: which forge, its API, the repository, the
 * commit, the pull/merge request, and the token (with the variable it came from, for errors).
 */
import fs from 'node:fs/promises';
import { CairnError, errnoCode } from '../core/errors.js';

export type ForgeKind = 'github' | 'gitlab';

/** The CI run as a forge sees it; everything a driver needs to reach its API. */
export interface ForgeContext {
  kind: ForgeKind;
  /** REST API root without a trailing slash: `https://api.github.com`, `https://gitlab.com/api/v4` */
  apiUrl: string;
  /** web root without a trailing slash: `https://github.com`, `https://gitlab.com` */
  serverUrl: string;
  /** GitHub `owner/name`; GitLab the project id or `group/project` path */
  repo: string;
  /** the project's web page (GitLab: links to notes), when known */
  projectUrl?: string;
  /** the commit the run is for (a pull request's head, not its merge commit) */
  sha?: string;
  /** the pull/merge request the run belongs to (its number or iid) */
  pull?: number;
  token: string;
  /** the variable the token came from; never the token itself */
  tokenVariable: string;
  /** substituted for `{workflow}` and `{run}` in watermark titles */
  workflow?: string;
  run?: string;
}

export interface ContextOptions {
  /** `--driver`: which forge, when the environment does not say or says both */
  driver?: ForgeKind;
  /** `--repo`: the repository outside CI */
  repo?: string;
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** Which forge's CI this is, from `--driver` or the variables each CI sets. */
export function detectForge(env: NodeJS.ProcessEnv, driver?: ForgeKind): ForgeKind {
  if (driver !== undefined) return driver;
  const github = env.GITHUB_ACTIONS === 'true' || nonEmpty(env.GITHUB_REPOSITORY) !== undefined;
  const gitlab = env.GITLAB_CI === 'true' || nonEmpty(env.CI_PROJECT_URL) !== undefined;
  if (github && gitlab)
    throw new CairnError(
      'forge-unknown',
      'both GitHub Actions (GITHUB_*) and GitLab CI (CI_*) variables are set',
      { hint: 'Pass --driver github or --driver gitlab.' },
    );
  if (github) return 'github';
  if (gitlab) return 'gitlab';
  throw new CairnError('forge-unknown', 'not running in GitHub Actions or GitLab CI', {
    hint: 'Pass --driver github|gitlab, --repo and --target to comment from elsewhere.',
  });
}

/** The first token variable that is set, in CML's order, then the forge's own. */
function findToken(env: NodeJS.ProcessEnv, kind: ForgeKind): { token: string; variable: string } {
  const names =
    kind === 'github'
      ? ['REPO_TOKEN', 'repo_token', 'GITHUB_TOKEN']
      : ['REPO_TOKEN', 'repo_token', 'GITLAB_TOKEN'];
  for (const variable of names) {
    const token = nonEmpty(env[variable]);
    if (token !== undefined) return { token, variable };
  }
  throw new CairnError(
    'forge-token-missing',
    `no ${forgeName(kind)} token: none of ${names.join(', ')} is set`,
    {
      hint:
        kind === 'github'
          ? 'Set REPO_TOKEN (in a workflow: `env: REPO_TOKEN: ${{ secrets.GITHUB_TOKEN }}`, with `permissions: pull-requests: write, contents: write`).'
          : 'Set REPO_TOKEN or GITLAB_TOKEN to a project access token with the api scope, as a masked CI/CD variable (CI_JOB_TOKEN cannot write comments).',
    },
  );
}

export function forgeName(kind: ForgeKind): string {
  return kind === 'github' ? 'GitHub' : 'GitLab';
}

interface GithubEvent {
  pull_request?: { number?: number; head?: { sha?: string } };
}

/** The event payload GitHub Actions writes to GITHUB_EVENT_PATH, or nothing when absent. */
async function readEvent(file: string | undefined): Promise<GithubEvent> {
  if (file === undefined) return {};
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as GithubEvent;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return {};
    throw new CairnError('bad-env', `GITHUB_EVENT_PATH ${file} is not a readable JSON event`, {
      cause: error,
    });
  }
}

async function githubContext(env: NodeJS.ProcessEnv, o: ContextOptions): Promise<ForgeContext> {
  const serverUrl = trimSlash(nonEmpty(env.GITHUB_SERVER_URL) ?? 'https://github.com');
  const apiUrl = trimSlash(
    nonEmpty(env.GITHUB_API_URL) ??
      (serverUrl === 'https://github.com' ? 'https://api.github.com' : `${serverUrl}/api/v3`),
  );
  const repo = o.repo ?? nonEmpty(env.GITHUB_REPOSITORY);
  if (repo === undefined || !/^[^/\s]+\/[^/\s]+$/.test(repo))
    throw new CairnError(
      'forge-repo-missing',
      repo === undefined
        ? 'no GitHub repository: GITHUB_REPOSITORY is not set'
        : `'${repo}' is not owner/name`,
      { hint: 'Run in GitHub Actions or pass --repo owner/name.' },
    );
  const event = ['pull_request', 'pull_request_target'].includes(env.GITHUB_EVENT_NAME ?? '')
    ? await readEvent(nonEmpty(env.GITHUB_EVENT_PATH))
    : {};
  const { token, variable } = findToken(env, 'github');
  const sha = event.pull_request?.head?.sha ?? nonEmpty(env.GITHUB_SHA);
  const pull = event.pull_request?.number;
  const workflow = nonEmpty(env.GITHUB_WORKFLOW);
  const run = nonEmpty(env.GITHUB_RUN_ID);
  return {
    kind: 'github',
    apiUrl,
    serverUrl,
    repo,
    projectUrl: `${serverUrl}/${repo}`,
    token,
    tokenVariable: variable,
    ...(sha === undefined ? {} : { sha }),
    ...(pull === undefined ? {} : { pull }),
    ...(workflow === undefined ? {} : { workflow }),
    ...(run === undefined ? {} : { run }),
  };
}

function gitlabContext(env: NodeJS.ProcessEnv, o: ContextOptions): ForgeContext {
  const serverUrl = trimSlash(nonEmpty(env.CI_SERVER_URL) ?? 'https://gitlab.com');
  const apiUrl = trimSlash(nonEmpty(env.CI_API_V4_URL) ?? `${serverUrl}/api/v4`);
  const repo = o.repo ?? nonEmpty(env.CI_PROJECT_ID) ?? nonEmpty(env.CI_PROJECT_PATH);
  if (repo === undefined)
    throw new CairnError('forge-repo-missing', 'no GitLab project: CI_PROJECT_ID is not set', {
      hint: 'Run in GitLab CI or pass --repo with the project id or group/project path.',
    });
  const { token, variable } = findToken(env, 'gitlab');
  const iid = nonEmpty(env.CI_MERGE_REQUEST_IID);
  const pull = iid === undefined ? undefined : Number(iid);
  if (pull !== undefined && !Number.isInteger(pull))
    throw new CairnError('bad-env', `CI_MERGE_REQUEST_IID is '${iid ?? ''}', not a number`);
  const projectUrl =
    nonEmpty(env.CI_PROJECT_URL) ?? (/^\d+$/.test(repo) ? undefined : `${serverUrl}/${repo}`);
  const sha = nonEmpty(env.CI_COMMIT_SHA);
  const workflow = nonEmpty(env.CI_PIPELINE_ID);
  const run = nonEmpty(env.CI_JOB_ID);
  return {
    kind: 'gitlab',
    apiUrl,
    serverUrl,
    repo,
    token,
    tokenVariable: variable,
    ...(projectUrl === undefined ? {} : { projectUrl: trimSlash(projectUrl) }),
    ...(sha === undefined ? {} : { sha }),
    ...(pull === undefined ? {} : { pull }),
    ...(workflow === undefined ? {} : { workflow }),
    ...(run === undefined ? {} : { run }),
  };
}

/** The forge context of this run: `--driver`/`--repo` first, then the CI's variables. */
export async function readForgeContext(
  env: NodeJS.ProcessEnv,
  o: ContextOptions = {},
): Promise<ForgeContext> {
  const kind = detectForge(env, o.driver);
  return kind === 'github' ? githubContext(env, o) : gitlabContext(env, o);
}
