/** The registry commands: login, logout, push, pull, referrers. */
import type { Command } from 'commander';
import { withRegistryFlags } from '../registry-flags.js';
import { action } from './action.js';
import { kitopsOption } from './options.js';
import type { RegistryFlags, RemoteFlags } from '../../commands/options.js';

interface LoginFlags extends RegistryFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export function register(program: Command): void {
  withRegistryFlags(
    program
      .command('login <registry>')
      .description("check a registry login, then keep it in Cairn's credentials file")
      .option('-u, --username <user>', 'the account name')
      .option('-p, --password <password>', 'the password or token (prefer --password-stdin)')
      .option('--password-stdin', 'read the password or token from stdin'),
  ).action(
    action(async (ctx, registry: string, opts: LoginFlags) => {
      const { login } = await import('../../commands/login.js');
      const { registryOptions } = await import('../../commands/options.js');
      const result = await login(ctx, registry, {
        ...(opts.username === undefined ? {} : { username: opts.username }),
        ...(opts.password === undefined ? {} : { password: opts.password }),
        passwordStdin: opts.passwordStdin === true,
        registry: registryOptions(opts, ctx.env),
        terminal: { input: process.stdin, output: process.stderr },
      });
      const { formatLogin } = await import('../remote.js');
      return { json: result, text: formatLogin(result) };
    }),
  );

  withRegistryFlags(
    program
      .command('logout <registry>')
      .description("forget a registry login kept in Cairn's credentials file"),
  ).action(
    action(async (ctx, registry: string, opts: RegistryFlags) => {
      const { logout } = await import('../../commands/login.js');
      const { registryOptions } = await import('../../commands/options.js');
      const result = await logout(ctx, registry, registryOptions(opts, ctx.env));
      const { formatLogout } = await import('../remote.js');
      return { json: result, text: formatLogout(result) };
    }),
  );

  withRegistryFlags(
    program
      .command('push <source> [destination]')
      .description(
        'upload a ModelKit from the local store to a registry (destination defaults to source)',
      )
      .addOption(kitopsOption()),
    true,
  ).action(
    action(async (ctx, source: string, destination: string | undefined, opts: RemoteFlags) => {
      const { pushCommand } = await import('../../commands/remote.js');
      const { formatTransfer } = await import('../remote.js');
      const result = await pushCommand(ctx, source, destination, opts);
      return { json: result, text: formatTransfer('Pushed', result) };
    }),
  );

  withRegistryFlags(
    program
      .command('pull <ref>')
      .description('download a ModelKit from a registry into the local store')
      .addOption(kitopsOption()),
    true,
  ).action(
    action(async (ctx, ref: string, opts: RemoteFlags) => {
      const { pullCommand } = await import('../../commands/remote.js');
      const { formatTransfer } = await import('../remote.js');
      const result = await pullCommand(ctx, ref, opts);
      return { json: result, text: formatTransfer('Pulled', result) };
    }),
  );

  withRegistryFlags(
    program
      .command('referrers <ref>')
      .description('list the artifacts (signatures, provenance…) that refer to a remote ModelKit')
      .option('--artifact-type <type>', 'only referrers of this artifact type'),
  ).action(
    action(async (ctx, ref: string, opts: RemoteFlags & { artifactType?: string }) => {
      const { remoteReferrers } = await import('../../commands/remote-kit.js');
      const { formatReferrers } = await import('../remote.js');
      const result = await remoteReferrers(ctx, ref, opts);
      return { json: result, text: formatReferrers(result) };
    }),
  );
}
