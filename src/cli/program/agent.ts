/** `cairn agent` (src/deploy/agent.ts): reconciles environments in git to local workers. */
import type { Command } from 'commander';
import { withRegistryFlags } from '../registry-flags.js';
import { session } from './action.js';
import { collect, nonNegativeInteger } from './options.js';
import type { AgentCliFlags } from '../agent.js';

export function register(program: Command): void {
  withRegistryFlags(
    program
      .command('agent')
      .description('follow environments in a git repository and serve them here, with canaries')
      .requiredOption('--repo <url|path>', 'the git repository: a path, file://, http(s):// or ssh')
      .option('--branch <name>', 'the branch to follow', 'main')
      .option('--env <env>', 'an environment to follow (repeatable)', collect, [] as string[])
      .option('--host <host>', 'address of the router and the webhook endpoint', '127.0.0.1')
      .option('--port <port>', 'router port (0 picks a free one)', nonNegativeInteger, 8080)
      .option('--interval <duration>', 'how often git is fetched', '30s')
      .option(
        '--webhook-port <port>',
        'serve push webhooks here (secret: CAIRN_WEBHOOK_SECRET)',
        nonNegativeInteger,
      )
      .option('--state-dir <dir>', 'state, event log and workers (default .cairn/agent)')
      .option(
        '--once',
        'reconcile once, wait for rollouts to finish, exit 0 when Synced and Healthy',
      ),
    true,
  ).action(
    session(async (ctx, json, done, opts: AgentCliFlags) => {
      const { runAgent } = await import('../agent.js');
      return runAgent(ctx, opts, json, done);
    }),
  );
}
