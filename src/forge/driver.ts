/** The contract every forge driver (GitHub, GitLab) fulfils for `cairn comment`. */
import type { Asset } from './assets.js';
import type { ForgeKind } from './env.js';

/** Where a comment goes, resolved to one thread. */
export type CommentTarget =
  | { kind: 'pull'; number: number }
  | { kind: 'issue'; number: number }
  | { kind: 'commit'; sha: string };

/** A comment as the forge holds it. */
export interface ForgeComment {
  id: number;
  /** GitLab commit comments are notes in a discussion; edits need the discussion's id */
  discussionId?: string;
  body: string;
  /** its web page, when the forge (or the CI environment) tells us */
  url?: string;
}

export interface ForgeDriver {
  readonly kind: ForgeKind;
  /** the longest comment body the forge accepts, in characters */
  readonly maxBody: number;
  /** the open pull/merge request whose head is this commit, if any */
  pullForCommit(sha: string): Promise<number | undefined>;
  /** the target's comments, newest first */
  listComments(target: CommentTarget): Promise<ForgeComment[]>;
  createComment(target: CommentTarget, body: string): Promise<ForgeComment>;
  updateComment(target: CommentTarget, comment: ForgeComment, body: string): Promise<ForgeComment>;
  /** publishes the assets; returns each one's URL, by sha256 */
  publishAssets(assets: readonly Asset[]): Promise<Map<string, string>>;
}

/** How messages name a target: "pull request #3", "issue #7", "commit 0a1b2c3d4e5f". */
export function describeTarget(target: CommentTarget): string {
  switch (target.kind) {
    case 'pull':
      return `pull request #${target.number}`;
    case 'issue':
      return `issue #${target.number}`;
    case 'commit':
      return `commit ${target.sha.slice(0, 12)}`;
  }
}
