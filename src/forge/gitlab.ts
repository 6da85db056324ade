/**
 * The GitLab driver (gitbeaker): notes on merge requests and issues, a discussion on commits
 * (commit notes cannot be edited; discussion notes can), and report images through the
 * project uploads API, linked by the `/uploads/…` URL GitLab returns.
 */
import {
  CommitDiscussions,
  Commits,
  IssueNotes,
  MergeRequestNotes,
  Projects,
} from '@gitbeaker/rest';
import type { Asset } from './assets.js';
import type { CommentTarget, ForgeComment, ForgeDriver } from './driver.js';
import type { ForgeContext } from './env.js';
import { request } from './errors.js';

/** GitLab refuses notes of 1,000,000 characters or more. */
const MAX_BODY = 999_999;

function describe(target: CommentTarget): string {
  switch (target.kind) {
    case 'pull':
      return `merge request !${target.number}`;
    case 'issue':
      return `issue #${target.number}`;
    case 'commit':
      return `commit ${target.sha.slice(0, 12)}`;
  }
}

/** The fields Cairn reads from merge request and issue notes alike. */
interface RawNote {
  id: number;
  body: string;
  system: boolean;
}

export class GitlabDriver implements ForgeDriver {
  readonly kind = 'gitlab';
  readonly maxBody = MAX_BODY;
  readonly #ctx: ForgeContext;
  readonly #options: { host: string; token: string };
  readonly #project: string | number;

  constructor(ctx: ForgeContext) {
    this.#ctx = ctx;
    // gitbeaker appends /api/v4 to its host; CI_API_V4_URL already ends with it.
    const host = ctx.apiUrl.replace(/\/api\/v4$/, '');
    this.#options = { host, token: ctx.token };
    this.#project = /^\d+$/.test(ctx.repo) ? Number(ctx.repo) : ctx.repo;
  }

  /** The web page of a note, when the project's URL is known. */
  #noteUrl(target: CommentTarget, id: number): string | undefined {
    const base = this.#ctx.projectUrl;
    if (base === undefined) return undefined;
    switch (target.kind) {
      case 'pull':
        return `${base}/-/merge_requests/${target.number}#note_${id}`;
      case 'issue':
        return `${base}/-/issues/${target.number}#note_${id}`;
      case 'commit':
        return `${base}/-/commit/${target.sha}#note_${id}`;
    }
  }

  async pullForCommit(sha: string): Promise<number | undefined> {
    const mrs = await request(
      this.#ctx,
      `looking up merge requests of commit ${sha.slice(0, 12)}`,
      () => new Commits(this.#options).allMergeRequests(this.#project, sha),
    );
    return mrs.find((mr) => mr.state === 'opened')?.iid;
  }

  async listComments(target: CommentTarget): Promise<ForgeComment[]> {
    const doing = `listing the comments of ${describe(target)}`;
    if (target.kind === 'commit') {
      const discussions = await request(this.#ctx, doing, () =>
        new CommitDiscussions(this.#options).all(this.#project, target.sha),
      );
      const comments: ForgeComment[] = [];
      for (const d of discussions) {
        const note = d.notes?.[0];
        if (note !== undefined)
          comments.push({
            id: note.id,
            discussionId: d.id,
            body: note.body,
            ...this.#url(target, note.id),
          });
      }
      return comments.reverse();
    }
    const notes = await request<RawNote[]>(this.#ctx, doing, () =>
      target.kind === 'pull'
        ? new MergeRequestNotes(this.#options).all(this.#project, target.number, {
            sort: 'desc',
            orderBy: 'created_at',
          })
        : new IssueNotes(this.#options).all(this.#project, target.number, {
            sort: 'desc',
            orderBy: 'created_at',
          }),
    );
    return notes
      .filter((n) => !n.system)
      .map((n) => ({ id: n.id, body: n.body, ...this.#url(target, n.id) }));
  }

  #url(target: CommentTarget, id: number): { url?: string } {
    const url = this.#noteUrl(target, id);
    return url === undefined ? {} : { url };
  }

  async createComment(target: CommentTarget, body: string): Promise<ForgeComment> {
    const doing = `creating a comment on ${describe(target)}`;
    if (target.kind === 'commit') {
      const d = await request(this.#ctx, doing, () =>
        new CommitDiscussions(this.#options).create(this.#project, target.sha, body),
      );
      const note = d.notes?.[0];
      if (note === undefined)
        throw new Error('Internal error: GitLab returned a discussion without notes');
      return { id: note.id, discussionId: d.id, body: note.body, ...this.#url(target, note.id) };
    }
    const note = await request<RawNote>(this.#ctx, doing, () =>
      target.kind === 'pull'
        ? new MergeRequestNotes(this.#options).create(this.#project, target.number, body)
        : new IssueNotes(this.#options).create(this.#project, target.number, body),
    );
    return { id: note.id, body: note.body, ...this.#url(target, note.id) };
  }

  async updateComment(
    target: CommentTarget,
    comment: ForgeComment,
    body: string,
  ): Promise<ForgeComment> {
    const doing = `updating comment ${comment.id} on ${describe(target)}`;
    if (target.kind === 'commit') {
      const discussionId = comment.discussionId;
      if (discussionId === undefined)
        throw new Error('Internal error: a commit note without its discussion');
      const note = await request(this.#ctx, doing, () =>
        new CommitDiscussions(this.#options).editNote(
          this.#project,
          target.sha,
          discussionId,
          comment.id,
          { body },
        ),
      );
      return { id: note.id, discussionId, body: note.body, ...this.#url(target, note.id) };
    }
    const note = await request<RawNote>(this.#ctx, doing, () =>
      target.kind === 'pull'
        ? new MergeRequestNotes(this.#options).edit(this.#project, target.number, comment.id, {
            body,
          })
        : new IssueNotes(this.#options).edit(this.#project, target.number, comment.id, { body }),
    );
    return { id: note.id, body: note.body, ...this.#url(target, note.id) };
  }

  async publishAssets(assets: readonly Asset[]): Promise<Map<string, string>> {
    const urls = new Map<string, string>();
    const projects = new Projects(this.#options);
    for (const asset of assets) {
      const uploaded = await request(this.#ctx, `uploading ${asset.name}`, () =>
        projects.uploadForReference(this.#project, {
          content: new Blob([asset.bytes]),
          filename: asset.name,
        }),
      );
      urls.set(asset.sha256, uploaded.url);
    }
    return urls;
  }
}
