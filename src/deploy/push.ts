/**
 * `--push`: a GitOps commit sent to the current branch's upstream with the system git, so an
 * agent following that remote sees it. The upstream is checked before anything is committed;
 * a push the remote refuses leaves the local commit in place and says how to send it again.
 */
import { execFile } from 'node:child_process';
import { CairnError } from '../core/errors.js';

/** Where the current branch pushes: its remote and the remote branch it tracks. */
export interface Upstream {
  readonly branch: string;
  readonly remote: string;
  /** `refs/heads/…` on the remote */
  readonly ref: string;
}

export interface Pushed {
  readonly remote: string;
  readonly ref: string;
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cwd: string, args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The current branch's upstream; refuses a detached HEAD or a branch that tracks nothing. */
export async function upstreamOf(root: string): Promise<Upstream> {
  const head = await run(root, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const branch = head.stdout.trim();
  if (head.code !== 0 || branch === '') {
    throw new CairnError('push-no-upstream', `--push: HEAD in ${root} is not on a branch`, {
      hint: 'Check out the branch the environments live on (git switch main), then deploy again.',
    });
  }
  const remote = (await run(root, ['config', '--get', `branch.${branch}.remote`])).stdout.trim();
  const ref = (await run(root, ['config', '--get', `branch.${branch}.merge`])).stdout.trim();
  if (remote === '' || ref === '') {
    throw new CairnError('push-no-upstream', `--push: branch '${branch}' has no upstream`, {
      hint: `Set one once with \`git push -u origin ${branch}\` (nothing was committed).`,
    });
  }
  return { branch, remote, ref };
}

/** Pushes HEAD to `upstream`; a refusal is an error that names the commit kept locally. */
export async function pushHead(root: string, upstream: Upstream, commit: string): Promise<Pushed> {
  const r = await run(root, ['push', '--quiet', upstream.remote, `HEAD:${upstream.ref}`]);
  if (r.code !== 0) {
    const why = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('hint:'))
      .join('; ');
    throw new CairnError(
      'push-rejected',
      `committed ${commit.slice(0, 12)} locally, but pushing it to ${upstream.remote} ${upstream.ref} failed: ${why}`,
      {
        hint: 'The commit is kept. Bring in the remote changes (git pull --rebase), then git push.',
      },
    );
  }
  return { remote: upstream.remote, ref: upstream.ref };
}
