/** `cairn exp queue`: runs experiments queued by `cairn exp run --queue`, N at a time. */
import type { Command } from 'commander';
import { positiveInteger } from '../registry-flags.js';
import { action } from './action.js';

/** Adds `queue` and its subcommands to `exp`. */
export function register(exp: Command): void {
  const queue = exp
    .command('queue')
    .description('run queued experiments (`cairn exp run --queue`) N at a time');

  queue
    .command('start')
    .description('run the queue until it is empty, N experiments at a time (in the foreground)')
    .option('-j, --jobs <n>', 'experiments at once', positiveInteger, 1)
    .action(
      action(async (ctx, opts: { jobs: number }) => {
        const { expQueueStart } = await import('../../commands/exp.js');
        const result = await expQueueStart(ctx, { jobs: opts.jobs });
        return {
          json: result,
          text: `Queue done: ${String(result.done.length)} experiments ran, ${String(result.failed.length)} failed${result.failed.length > 0 ? ' (see `cairn exp queue logs <id>`)' : ''}.`,
          exitCode: result.failed.length > 0 ? 1 : 0,
        };
      }),
    );

  queue
    .command('status')
    .description('queued, running and failed experiments')
    .action(
      action(async (ctx) => {
        const { expQueueStatus } = await import('../../commands/exp.js');
        const { formatQueueStatus } = await import('../exp.js');
        const entries = await expQueueStatus(ctx);
        return { json: entries, text: formatQueueStatus(entries) };
      }),
    );

  queue
    .command('logs <id>')
    .description("a queued experiment's output (by id or name)")
    .action(
      action(async (ctx, id: string) => {
        const { expQueueLogs } = await import('../../commands/exp.js');
        const text = await expQueueLogs(ctx, id);
        return { json: { id, log: text }, text };
      }),
    );

  queue
    .command('kill <ids...>')
    .description('stop running experiments (by id or name)')
    .action(
      action(async (ctx, ids: string[]) => {
        const { expQueueKill } = await import('../../commands/exp.js');
        const killed = await expQueueKill(ctx, ids);
        return { json: killed, text: killed.map((id) => `Stopping ${id}.`).join('\n') };
      }),
    );

  queue
    .command('remove <ids...>')
    .description('drop queued or failed entries (by id or name)')
    .action(
      action(async (ctx, ids: string[]) => {
        const { expQueueRemove } = await import('../../commands/exp.js');
        const removed = await expQueueRemove(ctx, ids);
        return {
          json: removed,
          text: removed.map((id) => `Removed queue entry ${id}.`).join('\n'),
        };
      }),
    );
}
