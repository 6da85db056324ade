/** `cairn comment create|update FILE`: a Markdown report posted to the CI run's pull request. */
import type { ForgeKind } from '../forge/env.js';
import type { PostedComment } from '../forge/comment.js';
import type { CommandContext } from './context.js';

export interface CommentFlags {
  /** auto (default), pr, commit, pr#N, issue#N, commit#SHA */
  target?: string;
  watermarkTitle?: string;
  driver?: ForgeKind;
  repo?: string;
}

export async function commentCommand(
  ctx: CommandContext,
  mode: 'create' | 'update',
  file: string,
  flags: CommentFlags,
): Promise<PostedComment> {
  const { postComment } = await import('../forge/comment.js');
  const { parseTarget } = await import('../forge/target.js');
  return postComment({
    file,
    cwd: ctx.cwd,
    env: ctx.env,
    update: mode === 'update',
    target: parseTarget(flags.target ?? 'auto'),
    watermarkTitle: flags.watermarkTitle ?? '',
    ...(flags.driver === undefined ? {} : { driver: flags.driver }),
    ...(flags.repo === undefined ? {} : { repo: flags.repo }),
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    onMissingImage: (destination) => {
      ctx.sink({
        type: 'warning',
        message: `image ${destination} names no file next to ${file}; left as written`,
      });
    },
  });
}
