/**
 * The GitHub driver (octokit): issue comments for pull requests and issues, commit comments for
 * commits; report images go to the asset branch (github-assets.ts).
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
import { request } from './errors.js';
import { AssetBranch } from './github-assets.js';

/** GitHub's limit on a comment body, in characters. */
const MAX_BODY = 65_536;

/** The fields Cairn reads from GitHub's issue and commit comments alike. */
interface RawComment {
  id: number;
  body?: string | null;
  html_url: string;
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

  publishAssets(assets: readonly Asset[]): Promise<Map<string, string>> {
    return new AssetBranch(this.#octokit, this.#ctx, this.#repoArgs).publish(assets);
  }
}
