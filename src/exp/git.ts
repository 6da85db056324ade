/** Git plumbing for experiments: commands with their own environment and a batched object reader. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { CairnError } from '../core/errors.js';

const execFileP = promisify(execFile);

export interface GitOptions {
  /** the environment git runs in (the caller's, plus e.g. GIT_INDEX_FILE) */
  env: NodeJS.ProcessEnv;
}

/** Runs git in `cwd`; a failure is a `git-failed` CairnError quoting git's first error line. */
export async function gitRun(cwd: string, args: readonly string[], o: GitOptions): Promise<string> {
  try {
    const { stdout } = await execFileP('git', args, {
      cwd,
      env: o.env,
      maxBuffer: 1024 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const first = (e.stderr ?? e.message).trim().split('\n').pop() ?? '';
    throw new CairnError('git-failed', `git ${args.join(' ')} failed in ${cwd}: ${first}`, {
      hint: 'Check that this is a git repository with at least one commit and a user identity (git config user.name / user.email).',
      cause: error,
    });
  }
}

/** One object `git cat-file --batch` answered for a request. */
export interface BatchObject {
  /** the object id */
  oid: string;
  data: Buffer;
}

/**
 * Reads many objects (`<commit>:<path>` or ids) through one `git cat-file --batch` process;
 * a missing one maps to undefined.
 */
export async function catFileBatch(
  cwd: string,
  requests: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<(BatchObject | undefined)[]> {
  if (requests.length === 0) return [];
  const child = spawn('git', ['cat-file', '--batch'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(`${requests.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new CairnError(
            'git-failed',
            `git cat-file --batch exited with ${String(code)} in ${cwd}: ${stderr.trim()}`,
          ),
        );
    });
  });
  const all = Buffer.concat(chunks);
  const out: (BatchObject | undefined)[] = [];
  let pos = 0;
  for (let i = 0; i < requests.length; i++) {
    const nl = all.indexOf(0x0a, pos);
    if (nl < 0) throw new Error('Internal error: git cat-file --batch answered too few objects');
    const header = all.subarray(pos, nl).toString();
    pos = nl + 1;
    // "<oid> <type> <size>", or "<request> missing" / "<request> ambiguous"
    const [oid, type, sizeText] = header.split(' ');
    const size = Number(sizeText);
    if (
      oid === undefined ||
      type === undefined ||
      sizeText === undefined ||
      !Number.isFinite(size)
    ) {
      out.push(undefined);
      continue;
    }
    out.push({ oid, data: all.subarray(pos, pos + size) });
    pos += size + 1;
  }
  return out;
}
