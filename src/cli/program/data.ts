/** The data commands: add, status, checkout, commit, gc, fsck, unprotect. */
import type { Command } from 'commander';
import { action } from './action.js';

export function register(program: Command): void {
  program
    .command('add <paths...>')
    .description('track files or directories: hash them into the cache and write <path>.dvc')
    .action(
      action(async (ctx, paths: string[]) => {
        const { add } = await import('../../commands/data.js');
        const { formatAdd } = await import('../data.js');
        const added = await add(ctx, paths);
        return { json: added, text: formatAdd(added) };
      }),
    );

  program
    .command('status [targets...]')
    .description(
      'show pipeline stages and tracked data that changed, or are missing from the cache; with --env, a deployment',
    )
    .option('--env <env>', "report the agent's deployment of this environment instead")
    .option('--state-dir <dir>', 'the agent state folder (default .cairn/agent)')
    .action(
      action(async (ctx, targets: string[], opts: { env?: string; stateDir?: string }) => {
        if (opts.env !== undefined) {
          const { environmentStatusCommand } = await import('../../commands/agent.js');
          const { formatEnvironmentStatus } = await import('../agent.js');
          const report = await environmentStatusCommand(ctx, opts.env, opts.stateDir);
          return { json: report, text: formatEnvironmentStatus(report) };
        }
        const { status } = await import('../../commands/data.js');
        const { formatStatusReport } = await import('../data.js');
        const report = await status(ctx, targets);
        return { json: report, text: formatStatusReport(report) };
      }),
    );

  program
    .command('checkout [targets...]')
    .description('make workspace data match its .dvc files, from the cache')
    .option('-f, --force', 'overwrite or delete files whose content is not in the cache')
    .option('--relink', 're-create links even where content matches')
    .action(
      action(async (ctx, targets: string[], opts: { force?: boolean; relink?: boolean }) => {
        const { checkout } = await import('../../commands/data.js');
        const { formatCheckout } = await import('../data.js');
        const summary = await checkout(ctx, targets, {
          force: opts.force === true,
          relink: opts.relink === true,
        });
        return {
          json: summary,
          text: formatCheckout(summary),
          exitCode: summary.failed.length > 0 ? 1 : 0,
        };
      }),
    );

  program
    .command('commit [targets...]')
    .description('record the current state of tracked data in its .dvc files')
    .action(
      action(async (ctx, targets: string[]) => {
        const { commit } = await import('../../commands/data.js');
        const { formatCommit } = await import('../data.js');
        const saved = await commit(ctx, targets);
        return { json: saved, text: formatCommit(saved) };
      }),
    );

  program
    .command('gc')
    .description('remove cache objects nothing references (dry run unless --force)')
    .option('-a, --all-branches', 'keep objects used by the tip of every branch')
    .option('-T, --all-tags', 'keep objects used by every tag')
    .option('-A, --all-commits', 'keep objects used by every commit')
    .option('-f, --force', 'really delete (default: only show what would go)')
    .action(
      action(
        async (
          ctx,
          opts: { allBranches?: boolean; allTags?: boolean; allCommits?: boolean; force?: boolean },
        ) => {
          const { gc } = await import('../../commands/gc.js');
          const { formatGc } = await import('../data.js');
          const result = await gc(ctx, {
            allBranches: opts.allBranches === true,
            allTags: opts.allTags === true,
            allCommits: opts.allCommits === true,
            force: opts.force === true,
          });
          return { json: result, text: formatGc(result) };
        },
      ),
    );

  program
    .command('fsck')
    .description('re-hash every cache object; set corrupt ones aside')
    .action(
      action(async (ctx) => {
        const { fsck } = await import('../../commands/gc.js');
        const { formatFsck } = await import('../data.js');
        const result = await fsck(ctx);
        return {
          json: result,
          text: formatFsck(result),
          exitCode: result.corrupt.length > 0 ? 1 : 0,
        };
      }),
    );

  program
    .command('unprotect <targets...>')
    .description('turn linked or read-only tracked files into writable copies')
    .action(
      action(async (ctx, targets: string[]) => {
        const { unprotect } = await import('../../commands/data.js');
        const { formatUnprotect } = await import('../data.js');
        const changed = await unprotect(ctx, targets);
        return { json: changed, text: formatUnprotect(changed) };
      }),
    );
}
