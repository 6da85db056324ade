/** The ModelKit commands that make and read ModelKits: pack, unpack, list, info, inspect. */
import { Option, type Command } from 'commander';
import { withRegistryFlags } from '../registry-flags.js';
import { action } from './action.js';
import { collect, kitopsOption } from './options.js';
import type { RemoteFlags } from '../../commands/options.js';

interface PackFlags {
  file?: string;
  tag: string[];
  compression: string;
  layerFormat: string;
  kitops?: boolean;
}

interface UnpackFlags extends RemoteFlags {
  dir: string;
  overwrite?: boolean;
  ignoreExisting?: boolean;
  filter: string[];
  kitops?: boolean;
}

export function register(program: Command): void {
  program
    .command('pack [dir]')
    .description('pack a directory and its Kitfile into a ModelKit in the local store')
    .option('-f, --file <kitfile>', 'the Kitfile (default: Kitfile, kitfile or .kitfile in dir)')
    .option('-t, --tag <ref>', 'tag as ref[,tag2…] (repeatable)', collect, [])
    .addOption(
      new Option('--compression <kind>', 'layer compression')
        .choices(['none', 'gzip', 'gzip-fastest', 'zstd'])
        .default('none'),
    )
    .addOption(
      new Option('--layer-format <format>', 'tar layers, or raw (one file per layer)')
        .choices(['tar', 'raw'])
        .default('tar'),
    )
    .addOption(kitopsOption())
    .action(
      action(async (ctx, dir: string | undefined, opts: PackFlags) => {
        const { kitPack } = await import('../../commands/kit.js');
        const { formatPack } = await import('../kit.js');
        const result = await kitPack(ctx, {
          dir: dir ?? '.',
          ...(opts.file === undefined ? {} : { file: opts.file }),
          tags: opts.tag,
          compression: opts.compression,
          layerFormat: opts.layerFormat === 'raw' ? 'raw' : 'tar',
          kitops: opts.kitops === true,
        });
        return { json: result, text: formatPack(result) };
      }),
    );

  const unpack = program
    .command('unpack <ref>')
    .description(
      'extract a ModelKit from the local store (or, if not there, its registry) into a directory',
    )
    .option('-d, --dir <dir>', 'where to unpack', '.')
    .option('-o, --overwrite', 'replace existing files')
    .option('-i, --ignore-existing', 'keep existing files and skip those entries')
    .option(
      '--filter <types[:ids]>',
      'what to unpack, e.g. model or datasets:train (repeatable)',
      collect,
      [],
    )
    .addOption(kitopsOption());
  withRegistryFlags(unpack, true).action(
    action(async (ctx, ref: string, opts: UnpackFlags) => {
      const { unpackLocalOrRemote } = await import('../../commands/kit-unpack.js');
      const { formatUnpack } = await import('../kit.js');
      const result = await unpackLocalOrRemote(
        ctx,
        ref,
        {
          dir: opts.dir,
          overwrite: opts.overwrite === true,
          ignoreExisting: opts.ignoreExisting === true,
          filters: opts.filter,
          kitops: opts.kitops === true,
        },
        opts,
      );
      return { json: result, text: formatUnpack(result) };
    }),
  );

  withRegistryFlags(
    program
      .command('list [repository]')
      .description('list the ModelKits in the local store, or the tags of REGISTRY/REPO')
      .option('--local', 'list a registry repository as stored locally, not on the registry')
      .addOption(kitopsOption()),
    true,
  ).action(
    action(
      async (
        ctx,
        repository: string | undefined,
        opts: { kitops?: boolean; local?: boolean } & RemoteFlags,
      ) => {
        const { kitList } = await import('../../commands/kit.js');
        const { formatList } = await import('../kit.js');
        const remote = await import('../../commands/remote-kit.js');
        const rows =
          opts.local !== true && remote.namesRegistry(repository)
            ? await remote.remoteList(ctx, repository ?? '', opts)
            : await kitList(ctx, {
                ...(repository === undefined ? {} : { repo: repository }),
                kitops: opts.kitops === true,
              });
        return {
          json: rows.map(({ bytes: _b, ...r }) => r),
          text: formatList(rows),
        };
      },
    ),
  );

  withRegistryFlags(
    program
      .command('info <ref>')
      .description("print a ModelKit's Kitfile (config) as YAML")
      .option('-f, --filter <field>', 'a dotted field such as .model.path')
      .option('-r, --remote', 'read it from the registry instead of the local store')
      .addOption(kitopsOption()),
  ).action(
    action(
      async (
        ctx,
        ref: string,
        opts: { filter?: string; kitops?: boolean; remote?: boolean } & RemoteFlags,
      ) => {
        const { formatInfo, infoJson } = await import('../kit.js');
        let info;
        if (opts.remote === true) {
          const { remoteInfo } = await import('../../commands/remote-kit.js');
          info = await remoteInfo(ctx, ref, opts);
        } else {
          const { kitInfo } = await import('../../commands/kit.js');
          info = await kitInfo(ctx, ref, {
            ...(opts.filter === undefined ? {} : { filter: opts.filter }),
            kitops: opts.kitops === true,
          });
        }
        return { json: infoJson(info), text: formatInfo(info) };
      },
    ),
  );

  withRegistryFlags(
    program
      .command('inspect <ref>')
      .description("print a ModelKit's digest, manifest and Kitfile as JSON")
      .option('-r, --remote', 'read it from the registry instead of the local store')
      .addOption(kitopsOption()),
  ).action(
    action(async (ctx, ref: string, opts: { kitops?: boolean; remote?: boolean } & RemoteFlags) => {
      const { kitInspect } = await import('../../commands/kit.js');
      const { remoteInspect } = await import('../../commands/remote-kit.js');
      const result =
        opts.remote === true
          ? await remoteInspect(ctx, ref, opts)
          : await kitInspect(ctx, ref, { kitops: opts.kitops === true });
      return { json: result, text: JSON.stringify(result, null, 2) };
    }),
  );
}
