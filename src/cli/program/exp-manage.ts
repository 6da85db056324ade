/** The `cairn exp` commands that keep, share and drop experiments: apply, branch, remove, push, pull. */
import type { Command } from 'commander';
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
    ['push', "send experiment refs to a git remote (HEAD's experiments by default)"],
    ['pull', "fetch experiment refs from a git remote (HEAD's experiments by default)"],
  ] as const) {
    exp
      .command(`${verb} <remote> [names...]`)
      .description(what)
      .option('-A, --all-baselines', 'the experiments of every baseline')
      .option('-f, --force', 'replace refs that differ')
      .action(
        action(
          async (
            ctx,
            remote: string,
            names: string[],
            opts: { allBaselines?: boolean; force?: boolean },
          ) => {
            const { expPush, expPull } = await import('../../commands/exp.js');
            const o = { names, all: opts.allBaselines === true, force: opts.force === true };
            const refs =
              verb === 'push' ? await expPush(ctx, remote, o) : await expPull(ctx, remote, o);
            const done = verb === 'push' ? 'Pushed' : 'Pulled';
            return {
              json: refs,
              text:
                refs.length === 0
                  ? 'No experiments to transfer.'
                  : `${done} ${String(refs.length)} experiment${refs.length === 1 ? '' : 's'} (git refs only: cached outputs are not transferred).`,
            };
          },
        ),
      );
  }
}
