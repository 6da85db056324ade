/**
 * `--target`: where a comment goes. `auto` (the default) is the run's pull/merge request, else
 * the one whose head is the run's commit, else that commit; `pr`, `commit`, `pr#N`, `issue#N`
 * and `commit#SHA` pin it (CML's `pr/N` spelling is accepted too).
 */
import { CairnError } from '../core/errors.js';
import type { CommentTarget, ForgeDriver } from './driver.js';
import type { ForgeContext } from './env.js';

export type TargetSpec =
  | { kind: 'auto' }
  | { kind: 'pull'; number?: number }
  | { kind: 'commit'; sha?: string }
  | { kind: 'issue'; number: number };

const SYNTAX = 'auto, pr, commit, pr#N, issue#N or commit#SHA';

export function parseTarget(text: string): TargetSpec {
  if (text === 'auto') return { kind: 'auto' };
  if (text === 'pr' || text === 'mr') return { kind: 'pull' };
  if (text === 'commit') return { kind: 'commit' };
  const match = /^(pr|mr|issue|commit)[#/](.+)$/.exec(text);
  const [, kind, value] = match ?? [];
  if (kind === 'commit' && value !== undefined && /^[0-9a-f]{7,64}$/i.test(value))
    return { kind: 'commit', sha: value };
  if (kind !== undefined && kind !== 'commit' && value !== undefined && /^[1-9]\d*$/.test(value))
    return kind === 'issue'
      ? { kind: 'issue', number: Number(value) }
      : { kind: 'pull', number: Number(value) };
  throw new CairnError('bad-flag', `--target ${text}: expected ${SYNTAX}`);
}

function unresolved(what: string): CairnError {
  return new CairnError('comment-target', what, {
    hint: 'Outside a pull/merge request pipeline, pass --target pr#N, issue#N or commit#SHA.',
  });
}

/** The one thread the comment goes to; asks the forge only when the environment does not say. */
export async function resolveTarget(
  spec: TargetSpec,
  ctx: ForgeContext,
  driver: ForgeDriver,
): Promise<CommentTarget> {
  switch (spec.kind) {
    case 'issue':
      return spec;
    case 'commit': {
      const sha = spec.sha ?? ctx.sha;
      if (sha === undefined)
        throw unresolved('no commit to comment on: the CI commit variable is not set');
      return { kind: 'commit', sha };
    }
    case 'pull':
    case 'auto': {
      const number = spec.kind === 'pull' ? (spec.number ?? ctx.pull) : ctx.pull;
      if (number !== undefined) return { kind: 'pull', number };
      if (ctx.sha === undefined)
        throw unresolved(
          'cannot tell which pull/merge request to comment on: this is not a CI run for one',
        );
      const found = await driver.pullForCommit(ctx.sha);
      if (found !== undefined) return { kind: 'pull', number: found };
      if (spec.kind === 'pull')
        throw unresolved(`commit ${ctx.sha.slice(0, 12)} belongs to no open pull/merge request`);
      return { kind: 'commit', sha: ctx.sha };
    }
  }
}
