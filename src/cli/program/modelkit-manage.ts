/** The ModelKit commands that manage the local store: tag, rm, diff, and `kit init`. */
import type { Command } from 'commander';
import { withRegistryFlags } from '../registry-flags.js';
import { action } from './action.js';
import { kitopsOption } from './options.js';
import type { RemoteFlags } from '../../commands/options.js';

interface RemoveFlags extends RemoteFlags {
  force?: boolean;
  all?: boolean;
  kitops?: boolean;
  remote?: boolean;
}

interface KitInitFlags {
  name?: string;
  desc?: string;
  author?: string;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('tag <source> <target>')
    .description('tag a stored ModelKit with another reference')
    .addOption(kitopsOption())
    .action(
      action(async (ctx, source: string, target: string, opts: { kitops?: boolean }) => {
        const { kitTag } = await import('../../commands/kit.js');
        const { formatTagged } = await import('../kit.js');
        const result = await kitTag(ctx, source, target, { kitops: opts.kitops === true });
        return { json: result, text: formatTagged(result) };
      }),
    );

  withRegistryFlags(
    program
      .command('rm [refs...]')
      .alias('remove')
      .description('remove ModelKits from the local store (by tag or digest) and unused blobs')
      .option('-f, --force', 'remove the ModelKit even if other tags point to it')
      .option('-a, --all', 'remove untagged ModelKits (with --force: everything)')
      .option('-r, --remote', 'delete the manifest from the registry instead')
      .addOption(kitopsOption()),
  ).action(
    action(async (ctx, refs: string[], opts: RemoveFlags) => {
      if (opts.remote === true) {
        const { remoteRemove } = await import('../../commands/remote-kit.js');
        const { formatRemoteRemoved } = await import('../remote.js');
        if (refs.length !== 1 || opts.all === true) {
          const { CairnError } = await import('../../core/errors.js');
          throw new CairnError('bad-flag', 'rm --remote takes exactly one reference', {
            hint: 'e.g. cairn rm --remote registry.example.com/org/model:v1',
          });
        }
        const removed = await remoteRemove(ctx, refs[0] ?? '', {
          ...opts,
          force: opts.force === true,
        });
        return { json: removed, text: formatRemoteRemoved(removed) };
      }
      const { kitRemove } = await import('../../commands/kit.js');
      const { formatRemoved } = await import('../kit.js');
      const result = await kitRemove(ctx, refs, {
        force: opts.force === true,
        all: opts.all === true,
        kitops: opts.kitops === true,
      });
      return { json: result, text: formatRemoved(result) };
    }),
  );

  program
    .command('diff <a> <b>')
    .description('compare two ModelKits: config, annotations, shared and unique layers')
    .addOption(kitopsOption())
    .action(
      action(async (ctx, a: string, b: string, opts: { kitops?: boolean }) => {
        const { kitDiff } = await import('../../commands/kit.js');
        const { formatDiff } = await import('../kit.js');
        const result = await kitDiff(ctx, a, b, { kitops: opts.kitops === true });
        return { json: result, text: formatDiff(result) };
      }),
    );

  const kit = program.command('kit').description('ModelKit helpers');
  kit
    .command('init [dir]')
    .description('generate a Kitfile for a directory (kit heuristics plus Cairn pipeline data)')
    .option('--name <name>', 'package name (default: the directory name)')
    .option('--desc <text>', 'package description')
    .option('--author <name>', 'package author')
    .option('--force', 'overwrite an existing Kitfile')
    .action(
      action(async (ctx, dir: string | undefined, opts: KitInitFlags) => {
        const { kitInit } = await import('../../commands/kit-init.js');
        const result = await kitInit(ctx, {
          dir: dir ?? '.',
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.desc === undefined ? {} : { description: opts.desc }),
          ...(opts.author === undefined ? {} : { author: opts.author }),
          force: opts.force === true,
        });
        return { json: result, text: `Wrote ${result.file}` };
      }),
    );
}
