/** CI reports on forges (src/forge): CML's `comment`, and `ci init` for a workflow that uses it. */
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { action } from './action.js';
import type { CiInitFlags } from '../../commands/ci.js';
import type { CommentFlags } from '../../commands/comment.js';

const forgeKind = (value: string): 'github' | 'gitlab' => {
  if (value !== 'github' && value !== 'gitlab') throw new InvalidArgumentError('github or gitlab');
  return value;
};

export function register(program: Command): void {
  const comment = program
    .command('comment')
    .description('post a Markdown report to the pull/merge request of this CI run');
  for (const mode of ['create', 'update'] as const) {
    comment
      .command(`${mode} <file>`)
      .description(
        mode === 'create'
          ? 'add the report as a new comment'
          : "edit Cairn's earlier comment (same --watermark-title) in place, or add one",
      )
      .option('--target <target>', 'auto (default), pr, commit, pr#N, issue#N or commit#SHA')
      .option(
        '--watermark-title <title>',
        'tells apart several updatable comments ({workflow}, {run})',
      )
      .option(
        '--driver <forge>',
        'github or gitlab, when the CI environment does not say',
        forgeKind,
      )
      .option('--repo <repo>', 'owner/name (GitHub) or project id or path (GitLab), outside CI')
      .action(
        action(async (ctx, file: string, opts: CommentFlags) => {
          const { commentCommand } = await import('../../commands/comment.js');
          const { formatComment } = await import('../forge.js');
          const result = await commentCommand(ctx, mode, file, opts);
          return { json: result, text: formatComment(result) };
        }),
      );
  }

  program
    .command('ci')
    .description('continuous integration files')
    .command('init')
    .addArgument(new Argument('<forge>', 'the CI to write for').choices(['github', 'gitlab']))
    .description(
      'write .github/workflows/cairn.yaml (github) or .gitlab-ci.yml (gitlab): repro, report and comment on every pull/merge request',
    )
    .option('-f, --force', 'replace the file if it exists')
    .option('--package <spec>', 'what the CI installs with npm install --global (default: cairn)')
    .action(
      action(async (ctx, forge: 'github' | 'gitlab', opts: CiInitFlags) => {
        const { ciInitCommand } = await import('../../commands/ci.js');
        const { formatCiInit } = await import('../forge.js');
        const result = await ciInitCommand(ctx, forge, opts);
        return { json: result, text: formatCiInit(result, ctx.cwd) };
      }),
    );
}
