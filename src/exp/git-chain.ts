/**
 * Several git commands for one process start from Node: a `sh -c` script runs them in turn,
 * with the values as positional parameters (never spliced into the script). Starting a process
 * from Node forks this large process and blocks its event loop until the child has started;
 * from a small shell it costs a fraction of that. For the queue, which runs several experiments
 * in one process, those starts were most of an experiment's overhead.
 */
import { execFile } from 'node:child_process';
import { CairnError } from '../core/errors.js';

export interface ChainResult {
  /** the script's exit status (1 when it could not start or ended by a signal) */
  code: number;
  stdout: string;
  /** the last line of its stderr, or why it did not run */
  error: string;
}

/** Runs `script` with `sh -c` in `cwd`, `args` as `$1`, `$2`…; never throws. */
export function runChain(
  cwd: string,
  env: NodeJS.ProcessEnv,
  script: string,
  args: readonly string[],
): Promise<ChainResult> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', script, 'sh', ...args],
      { cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        const last = (stderr || (error?.message ?? '')).trim().split('\n').pop() ?? '';
        resolve({ code, stdout, error: last });
      },
    );
  });
}

/**
 * Runs `script` as {@link runChain} does; returns its stdout. A failure is a `git-failed`
 * CairnError quoting the last error line, as core/git.ts's `git()` does.
 */
export async function gitChain(
  cwd: string,
  env: NodeJS.ProcessEnv,
  script: string,
  args: readonly string[],
): Promise<string> {
  const r = await runChain(cwd, env, script, args);
  if (r.code === 0) return r.stdout;
  throw chainError(cwd, r);
}

export function chainError(cwd: string, r: ChainResult): CairnError {
  return new CairnError('git-failed', `git failed in ${cwd}: ${r.error}`, {
    hint: 'Check that this is a git repository with at least one commit and a user identity (git config user.name / user.email).',
  });
}
