/**
 * Several git commands for one process start from Node: a `sh -c` script runs them in turn,
 * with the values as positional parameters (never spliced into the script). Starting a process
 * from Node forks this large process and blocks its event loop until the child has started;
 * from a small shell it costs a fraction of that. For the queue, which runs several experiments
 * in one process, those starts were most of an experiment's overhead.
 */
import { execFile } from 'node:child_process';
import { CairnError } from '../core/errors.js';

/**
 * Runs `script` with `sh -c` in `cwd`, `args` as `$1`, `$2`…; returns its stdout. A failure is
 * a `git-failed` CairnError quoting the last error line, as core/git.ts's `git()` does.
 */
export function gitChain(
  cwd: string,
  env: NodeJS.ProcessEnv,
  script: string,
  args: readonly string[],
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      '/bin/sh',
      ['-c', script, 'sh', ...args],
      { cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const last = (stderr || error.message).trim().split('\n').pop() ?? '';
        reject(
          new CairnError('git-failed', `git failed in ${cwd}: ${last}`, {
            hint: 'Check that this is a git repository with at least one commit and a user identity (git config user.name / user.email).',
            cause: error,
          }),
        );
      },
    );
  });
}
