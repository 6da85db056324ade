/**
 * The git repository an agent follows (Flux's GitRepository): a local path, `file://`,
 * `http(s)://` or ssh URL, mirrored shallowly into a bare cache repository with the system
 * `git`. Each poll fetches one branch at depth 1 and records the exact commit; manifests are
 * read at that commit with `git cat-file`, never through a work tree.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { parseEnvironment, type Environment } from './environment.js';

export interface GitSourceOptions {
  /** a path, `file://…`, `http(s)://…`, `ssh://…` or `user@host:path` */
  readonly url: string;
  readonly branch: string;
  /** where mirrors are kept; one bare repository per url and branch below it */
  readonly cacheDir: string;
  /** per git command, ms (Flux: 60s) */
  readonly timeoutMs?: number;
}

/** `https://user:secret@host/x` → `https://user:***@host/x`; a bare http token is masked too. */
export function maskUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@:]*):([^/@]*)@/i, '$1$2:***@')
    .replace(/^(https?:\/\/)([^/@:]+)@/i, '$1***@');
}

const isRemote = (url: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/]+:/.test(url);

export class GitSource {
  readonly url: string;
  readonly branch: string;
  readonly #remote: string;
  readonly #dir: string;
  readonly #timeoutMs: number;
  #commit: string | undefined;

  private constructor(options: GitSourceOptions, dir: string) {
    this.url = options.url;
    this.branch = options.branch;
    this.#remote = isRemote(options.url) ? options.url : path.resolve(options.url);
    this.#dir = dir;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Prepares (or reuses) the bare mirror; does not touch the network. */
  static async open(options: GitSourceOptions): Promise<GitSource> {
    const key = createHash('sha256').update(`${options.url}\n${options.branch}`).digest('hex');
    const dir = path.join(options.cacheDir, key.slice(0, 16));
    const source = new GitSource(options, dir);
    await fsp.mkdir(dir, { recursive: true });
    await source.#git(['init', '--quiet', '--bare']);
    await source.#git(['config', 'remote.origin.url', source.#remote]);
    const known = await source
      .#git(['rev-parse', '--verify', '--quiet', source.#ref])
      .catch(() => '');
    if (known.trim() !== '') source.#commit = known.trim();
    return source;
  }

  /** The last commit fetched successfully (kept across restarts by the mirror). */
  get commit(): string | undefined {
    return this.#commit;
  }

  get #ref(): string {
    return `refs/cairn/${this.branch}`;
  }

  /**
   * Fetches the branch tip at depth 1 and answers its commit. On failure it throws and the
   * last good commit stays what `commit` answers, so the agent keeps serving it.
   */
  async fetch(): Promise<string> {
    const where = `${maskUrl(this.url)} (branch ${this.branch})`;
    try {
      // A no-op poll is one `ls-remote` (one process) when the tip is the commit already
      // fetched; only a moved tip pays for the fetch. Over smart HTTP, protocol v0 answers it
      // in one request where v2 takes two (capabilities, then ls-refs), each a CGI start on
      // the server: ~22 ms of a ~85 ms poll here. v0 lists every ref, which a deploy
      // repository's handful of branches makes cheap.
      if (this.#commit !== undefined) {
        const v0 = /^https?:\/\//i.test(this.#remote) ? ['-c', 'protocol.version=0'] : [];
        const tip = (await this.#git([...v0, 'ls-remote', 'origin', `refs/heads/${this.branch}`]))
          .split(/\s/)[0]
          ?.trim();
        if (tip === this.#commit) return tip;
      }
      await this.#git([
        'fetch',
        '--quiet',
        '--no-tags',
        '--depth',
        '1',
        'origin',
        `+refs/heads/${this.branch}:${this.#ref}`,
      ]);
    } catch (error) {
      const detail = this.#mask(error instanceof Error ? error.message : String(error));
      if (/couldn't find remote ref/i.test(detail)) {
        throw new CairnError('git-branch-missing', `${where}: no such branch`, {
          hint: 'Push the branch, or follow another one with --branch.',
          cause: error,
        });
      }
      throw new CairnError('git-fetch-failed', `fetching ${where} failed: ${detail}`, {
        hint: 'Check the URL, the network and the credentials; the agent keeps the last good commit.',
        cause: error,
      });
    }
    this.#commit = (await this.#git(['rev-parse', '--verify', `${this.#ref}^{commit}`])).trim();
    return this.#commit;
  }

  /** A file's text at `commit`, or undefined when the commit has no such file. */
  async readFile(commit: string, file: string): Promise<string | undefined> {
    try {
      return await this.#git(['cat-file', 'blob', `${commit}:${file}`]);
    } catch {
      const exists = await this.#git(['cat-file', '-e', `${commit}^{commit}`]).then(
        () => true,
        () => false,
      );
      if (!exists) throw new Error(`Internal error: commit ${commit} is not in the mirror`);
      return undefined;
    }
  }

  /** `environments/<env>.yaml` at `commit`, parsed and checked. */
  async readEnvironment(commit: string, env: string): Promise<Environment> {
    const file = path.posix.join('environments', `${env}.yaml`);
    const text = await this.readFile(commit, file);
    if (text === undefined) {
      throw new CairnError(
        'environment-missing',
        `${file}: not in ${maskUrl(this.url)} at ${commit.slice(0, 12)}`,
        {
          hint: `Commit ${file} to ${this.branch}, or follow another environment with --env.`,
        },
      );
    }
    return parseEnvironment(file, text, env);
  }

  #mask(text: string): string {
    const secret = /^[a-z][a-z0-9+.-]*:\/\/([^/@]+)@/i.exec(this.url)?.[1];
    const first = text.split('\n').find((l) => /fatal|error/i.test(l)) ?? text.split('\n')[0] ?? '';
    const masked = secret === undefined ? first : first.split(secret).join('***');
    return masked.split(this.url).join(maskUrl(this.url)).trim();
  }

  #git(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        args,
        {
          cwd: this.#dir,
          timeout: this.#timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
          env: {
            ...process.env,
            // explicit, so a cache below some work tree or safe.bareRepository=explicit is fine
            GIT_DIR: this.#dir,
            GIT_TERMINAL_PROMPT: '0',
            GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
          },
        },
        (error, stdout, stderr) => {
          if (error === null) resolve(stdout);
          else reject(new Error(stderr.trim() || error.message, { cause: error }));
        },
      );
    });
  }
}
