/** The `cairn exp` commands that keep, share and drop experiments: apply, branch, remove, push, pull. */
import type { Command } from 'commander';
import { positiveInteger } from '../registry-flags.js';
import { action } from './action.js';

/** Adds apply, branch, remove, push and pull to `exp`. */
export function register(exp: Command): void {
  exp
    .command('apply <name>')
    .description("set the workspace's files and outputs to the experiment's")
    .option('-f, --force', 'overwrite uncommitted changes')
    .action(
      action(async (ctx, name: string, opts: { force?: boolean }) => {
        const { expApply } = await import('../../commands/exp.js');
        const { formatApply } = await import('../exp.js');
        const result = await expApply(ctx, name, { force: opts.force === true });
        return { json: result, text: formatApply(result) };
      }),
    );

  exp
    .command('branch <name> <branch>')
    .description('make a git branch of an experiment')
    .action(
      action(async (ctx, name: string, branch: string) => {
        const { expBranch } = await import('../../commands/exp.js');
        const result = await expBranch(ctx, name, branch);
        return {
          json: result,
          text: `Branch '${result.branch}' at experiment '${result.name}' (${result.commit.slice(0, 7)}).`,
        };
      }),
    );

  exp
    .command('remove <names...>')
    .alias('rm')
    .description('delete experiments (their refs) or queued entries')
    .action(
      action(async (ctx, names: string[]) => {
        const { expRemove } = await import('../../commands/exp.js');
        const result = await expRemove(ctx, names);
        const lines = [
          ...result.removed.map((e) => `Removed experiment '${e.name}' (${e.ref}).`),
          ...result.dequeued.map((id) => `Removed queue entry ${id}.`),
        ];
        return { json: result, text: lines.join('\n') };
      }),
    );

  for (const [verb, what] of [
    [
      'push',
      "send experiments to a git remote (HEAD's by default), their cached outputs to the data remote",
    ],
    [
      'pull',
      "fetch experiments from a git remote (HEAD's by default), their cached outputs from the data remote",
    ],
  ] as const) {
    exp
      .command(`${verb} <remote> [names...]`)
      .description(what)
      .option('-A, --all-baselines', 'the experiments of every baseline')
      .option('-f, --force', 'replace refs that differ')
      .option('--no-cache', 'move the git refs only, not the cached outputs')
      .option('-r, --remote <name>', 'the data remote (default: core.remote)')
      .option('-j, --jobs <n>', 'objects copied at once (default: 4)', positiveInteger)
      .action(
        action(
          async (
            ctx,
            remote: string,
            names: string[],
            opts: {
              allBaselines?: boolean;
              force?: boolean;
              cache: boolean;
              remote?: string;
              jobs?: number;
            },
          ) => {
            const { expPush, expPull } = await import('../../commands/exp.js');
            const { formatExpSync } = await import('../exp.js');
            const o = {
              names,
              all: opts.allBaselines === true,
              force: opts.force === true,
              cache: opts.cache,
              ...(opts.remote === undefined ? {} : { remote: opts.remote }),
              ...(opts.jobs === undefined ? {} : { jobs: opts.jobs }),
            };
            const result =
              verb === 'push' ? await expPush(ctx, remote, o) : await expPull(ctx, remote, o);
            return { json: result, text: formatExpSync(verb, result) };
          },
        ),
      );
  }
}
