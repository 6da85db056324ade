/**
 * The GitHub driver (octokit): issue comments for pull requests and issues, commit comments for
 * commits, and report images committed to the orphan branch `cairn-assets` through the git data
 * API (GitHub has no upload API), linked by commit-pinned raw URLs.
 */
import { Octokit } from '@octokit/rest';
import type { Asset } from './assets.js';
import {
  describeTarget as describe,
  type CommentTarget,
  type ForgeComment,
  type ForgeDriver,
} from './driver.js';
import type { ForgeContext } from './env.js';
import { forgeError, request } from './errors.js';

/** The branch report images live on; never merged, never checked out. */
export const ASSET_BRANCH = 'cairn-assets';

/** GitHub's limit on a comment body, in characters. */
const MAX_BODY = 65_536;

/** Where an asset lives on the branch: its sha256 and extension, so equal files share one blob. */
function assetPath(asset: Asset): string {
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(asset.name)?.[0].toLowerCase() ?? '';
  return `${asset.sha256}${ext}`;
}

/** The fields Cairn reads from GitHub's issue and commit comments alike. */
interface RawComment {
  id: number;
  body?: string | null;
  html_url: string;
}

function hasStatus(error: unknown, ...statuses: number[]): boolean {
  return (
    error instanceof Error &&
    'status' in error &&
    typeof error.status === 'number' &&
    statuses.includes(error.status)
  );
}

export class GithubDriver implements ForgeDriver {
  readonly kind = 'github';
  readonly maxBody = MAX_BODY;
  readonly #ctx: ForgeContext;
  readonly #octokit: Octokit;
  readonly #owner: string;
  readonly #repo: string;

  constructor(ctx: ForgeContext, signal?: AbortSignal) {
    this.#ctx = ctx;
    const [owner = '', repo = ''] = ctx.repo.split('/');
    this.#owner = owner;
    this.#repo = repo;
    this.#octokit = new Octokit({
      auth: ctx.token,
      baseUrl: ctx.apiUrl,
      userAgent: 'cairn',
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
      ...(signal === undefined ? {} : { request: { signal } }),
    });
  }

  get #repoArgs(): { owner: string; repo: string } {
    return { owner: this.#owner, repo: this.#repo };
  }

  async pullForCommit(sha: string): Promise<number | undefined> {
    const pulls = await request(
      this.#ctx,
      `looking up pull requests of commit ${sha.slice(0, 12)}`,
      () =>
        this.#octokit.rest.repos.listPullRequestsAssociatedWithCommit({
          ...this.#repoArgs,
          commit_sha: sha,
        }),
    );
    return pulls.data.find((p) => p.state === 'open')?.number;
  }

  async listComments(target: CommentTarget): Promise<ForgeComment[]> {
    const doing = `listing the comments of ${describe(target)}`;
    const comments = await request<RawComment[]>(this.#ctx, doing, () =>
      target.kind === 'commit'
        ? this.#octokit.paginate(this.#octokit.rest.repos.listCommentsForCommit, {
            ...this.#repoArgs,
            commit_sha: target.sha,
            per_page: 100,
          })
        : this.#octokit.paginate(this.#octokit.rest.issues.listComments, {
            ...this.#repoArgs,
            issue_number: target.number,
            per_page: 100,
          }),
    );
    return comments.map((c) => ({ id: c.id, body: c.body ?? '', url: c.html_url })).reverse();
  }

  async createComment(target: CommentTarget, body: string): Promise<ForgeComment> {
    const doing = `creating a comment on ${describe(target)}`;
    const { data } = await request<{ data: RawComment }>(this.#ctx, doing, () =>
      target.kind === 'commit'
        ? this.#octokit.rest.repos.createCommitComment({
            ...this.#repoArgs,
            commit_sha: target.sha,
            body,
          })
        : this.#octokit.rest.issues.createComment({
            ...this.#repoArgs,
            issue_number: target.number,
            body,
          }),
    );
    return { id: data.id, body: data.body ?? body, url: data.html_url };
  }

  async updateComment(
    target: CommentTarget,
    comment: ForgeComment,
    body: string,
  ): Promise<ForgeComment> {
    const doing = `updating comment ${comment.id} on ${describe(target)}`;
    const { data } = await request<{ data: RawComment }>(this.#ctx, doing, () =>
      target.kind === 'commit'
        ? this.#octokit.rest.repos.updateCommitComment({
            ...this.#repoArgs,
            comment_id: comment.id,
            body,
          })
        : this.#octokit.rest.issues.updateComment({
            ...this.#repoArgs,
            comment_id: comment.id,
            body,
          }),
    );
    return { id: data.id, body: data.body ?? body, url: data.html_url };
  }

  /**
   * Commits the assets the branch lacks on top of its tip (or as its first, parentless commit)
   * and moves the branch there; retried when another job moved it meanwhile.
   */
  async publishAssets(assets: readonly Asset[]): Promise<Map<string, string>> {
    if (assets.length === 0) return new Map();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#publishOnce(assets);
      } catch (error) {
        // 422 "Update is not a fast forward": a concurrent job committed first.
        if (attempt < 3 && hasStatus(error, 409, 422)) continue;
        throw forgeError(error, `moving the ${ASSET_BRANCH} branch`, this.#ctx);
      }
    }
  }

  async #publishOnce(assets: readonly Asset[]): Promise<Map<string, string>> {
    const git = this.#octokit.rest.git;
    const ctx = this.#ctx;
    const tip = await this.#branchTip();
    let present = new Set<string>();
    let baseTree: string | undefined;
    if (tip !== undefined) {
      const commit = await request(ctx, `reading the ${ASSET_BRANCH} commit`, () =>
        git.getCommit({ ...this.#repoArgs, commit_sha: tip }),
      );
      baseTree = commit.data.tree.sha;
      const treeSha = baseTree;
      const tree = await request(ctx, `reading the ${ASSET_BRANCH} tree`, () =>
        git.getTree({ ...this.#repoArgs, tree_sha: treeSha }),
      );
      present = new Set(tree.data.tree.map((e) => e.path));
    }
    const missing = assets.filter((a) => !present.has(assetPath(a)));
    let commitSha = tip;
    if (missing.length > 0) {
      const entries: { path: string; mode: '100644'; type: 'blob'; sha: string }[] = [];
      for (const asset of missing) {
        const blob = await request(ctx, `uploading ${asset.name} as a git blob`, () =>
          git.createBlob({
            ...this.#repoArgs,
            content: Buffer.from(asset.bytes).toString('base64'),
            encoding: 'base64',
          }),
        );
        entries.push({
          path: assetPath(asset),
          mode: '100644' as const,
          type: 'blob' as const,
          sha: blob.data.sha,
        });
      }
      const tree = await request(ctx, `writing the ${ASSET_BRANCH} tree`, () =>
        git.createTree({
          ...this.#repoArgs,
          tree: entries,
          ...(baseTree === undefined ? {} : { base_tree: baseTree }),
        }),
      );
      const commit = await request(ctx, `committing to ${ASSET_BRANCH}`, () =>
        git.createCommit({
          ...this.#repoArgs,
          message: `cairn: report images (${missing.map((a) => a.name).join(', ')})`,
          tree: tree.data.sha,
          parents: tip === undefined ? [] : [tip],
        }),
      );
      commitSha = commit.data.sha;
      await this.#moveBranch(tip, commitSha);
    }
    if (commitSha === undefined) throw new Error('Internal error: no asset commit');
    const urls = new Map<string, string>();
    for (const asset of assets)
      urls.set(asset.sha256, `${ctx.serverUrl}/${ctx.repo}/raw/${commitSha}/${assetPath(asset)}`);
    return urls;
  }

  /** The asset branch's commit, or undefined before the first report with images. */
  async #branchTip(): Promise<string | undefined> {
    try {
      const ref = await this.#octokit.rest.git.getRef({
        ...this.#repoArgs,
        ref: `heads/${ASSET_BRANCH}`,
      });
      return ref.data.object.sha;
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw forgeError(error, `reading the ${ASSET_BRANCH} branch`, this.#ctx);
    }
  }

  async #moveBranch(from: string | undefined, to: string): Promise<void> {
    const git = this.#octokit.rest.git;
    const doing = `moving the ${ASSET_BRANCH} branch`;
    try {
      if (from === undefined)
        await git.createRef({ ...this.#repoArgs, ref: `refs/heads/${ASSET_BRANCH}`, sha: to });
      else
        await git.updateRef({
          ...this.#repoArgs,
          ref: `heads/${ASSET_BRANCH}`,
          sha: to,
          force: false,
        });
    } catch (error) {
      if (hasStatus(error, 409, 422)) throw error; // raced: the caller retries from the new tip
      throw forgeError(error, doing, this.#ctx);
    }
  }
}
