/**
 * The `cairn` command line: declares commands and flags, lazily imports the command
 * functions, renders their results, and is the only place that sets exit codes.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { createEventOutput } from './events.js';
import { renderError } from './errors.js';
import { positiveInteger, withRegistryFlags } from './registry-flags.js';
import type { CommandContext } from '../commands/context.js';
import type { RegistryFlags } from '../commands/options.js';
import type { ServeFlags } from './serve.js';
import type { AgentCliFlags } from './agent.js';
import type { DeployFlags } from '../commands/deploy.js';
import type { CommentFlags } from '../commands/comment.js';
import type { CiInitFlags } from '../commands/ci.js';

interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
}

/** A port: 0 (any free one) to 65535. */
function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('0 to 65535');
  return n;
}

interface ActionOptions {
  /** `--json` prints the events and then the result as one line stream on stdout (repro) */
  lineStream?: boolean;
  /** prefix stage output with its stage name (repro: on a terminal, or when stages interleave) */
  prefixStages?: boolean;
}

/**
 * A command's context: its events rendered (text, or `--json` lines) and an AbortSignal that
 * SIGINT and SIGTERM abort before the process ends by that signal as it always has.
 */
function context(flags: GlobalFlags, o: ActionOptions): { ctx: CommandContext; done: () => void } {
  const output = createEventOutput({
    json: flags.json === true,
    quiet: flags.quiet === true,
    jsonLines: o.lineStream === true ? process.stdout : process.stderr,
    prefixStages: o.prefixStages === true,
  });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort(new Error(`interrupted by ${signal}`));
    // Abort listeners have run; end by the signal itself, so exit statuses stay as they were.
    setImmediate(() => {
      release();
      process.kill(process.pid, signal);
    });
  };
  const release = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    ctx: { cwd: process.cwd(), env: process.env, sink: output.sink, signal: controller.signal },
    done: () => {
      release();
      output.done();
    },
  };
}

/** Runs a command body with rendering and error handling; the body returns text or JSON. */
function action<A extends unknown[]>(
  body: (
    ctx: CommandContext,
    ...args: A
  ) => Promise<{ json: unknown; text: string | (() => string); exitCode?: number }>,
  options: ActionOptions | ((...args: A) => ActionOptions) = {},
) {
  return async (...args: A): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals<GlobalFlags>();
    const params = args.slice(0, -1) as A;
    const o = typeof options === 'function' ? options(...params) : options;
    const { ctx, done } = context(flags, o);
    try {
      const result = await body(ctx, ...params);
      done();
      if (flags.json === true)
        process.stdout.write(
          `${o.lineStream === true ? JSON.stringify(result.json) : JSON.stringify(result.json, null, 2)}\n`,
        );
      else if (flags.quiet !== true) {
        // A function renders only when text is wanted (a large table is not built for --json).
        const text = typeof result.text === 'function' ? result.text() : result.text;
        if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
      process.exitCode = result.exitCode ?? 0;
    } catch (error) {
      done();
      process.exitCode = renderError(error, process.stderr, flags.json === true);
    }
  };
}

const program = new Command('cairn')
  .description(
    'GitOps for machine learning: version data, reproduce pipelines, package and deploy models.',
  )
  .version('0.1.0')
  .option('--json', 'machine-readable output')
  .option('-q, --quiet', 'print only errors')
  .showSuggestionAfterError()
  .configureHelp({ sortSubcommands: false });

program
  .command('init')
  .description('create .cairn/ in this git repository')
  .option('--no-scm', 'use Cairn without git')
  .option('-f, --force', 're-create .cairn/config.yaml if it exists')
  .action(
    action(async (ctx, opts: { scm: boolean; force?: boolean }) => {
      const { init } = await import('../commands/init.js');
      const { formatInit } = await import('./data.js');
      const result = await init(ctx, { noScm: !opts.scm, force: opts.force === true });
      return { json: result, text: formatInit(result) };
    }),
  );

const config = program
  .command('config')
  .description('read and write settings (repo, --local, --global)');
const levelOptions = (c: Command): Command =>
  c
    .addOption(new Option('--global', "the user's settings file").conflicts(['local']))
    .addOption(new Option('--local', 'the untracked .cairn/config.local.yaml'));
const levelOf = (o: { global?: boolean; local?: boolean }): 'global' | 'local' | 'repo' =>
  o.global === true ? 'global' : o.local === true ? 'local' : 'repo';

config
  .command('get <key>')
  .description('print the effective value of a key')
  .action(
    action(async (ctx, key: string) => {
      const { configGet } = await import('../commands/config.js');
      const entry = await configGet(ctx, key);
      return { json: entry, text: entry.value };
    }),
  );
levelOptions(config.command('set <key> <value>').description('set a key')).action(
  action(async (ctx, key: string, value: string, opts: { global?: boolean; local?: boolean }) => {
    const { configSet } = await import('../commands/config.js');
    const file = await configSet(ctx, levelOf(opts), key, value);
    return { json: { key, value, file }, text: '' };
  }),
);
levelOptions(config.command('unset <key>').description('remove a key')).action(
  action(async (ctx, key: string, opts: { global?: boolean; local?: boolean }) => {
    const { configSet } = await import('../commands/config.js');
    const file = await configSet(ctx, levelOf(opts), key, undefined);
    return { json: { key, file }, text: '' };
  }),
);
config
  .command('list')
  .description('every effective setting and where it comes from')
  .option('--show-origin', 'print the file or variable of each value')
  .action(
    action(async (ctx, opts: { showOrigin?: boolean }) => {
      const { configList } = await import('../commands/config.js');
      const { formatConfigList } = await import('./config.js');
      const entries = await configList(ctx);
      return { json: entries, text: formatConfigList(entries, opts.showOrigin === true) };
    }),
  );

program
  .command('add <paths...>')
  .description('track files or directories: hash them into the cache and write <path>.dvc')
  .action(
    action(async (ctx, paths: string[]) => {
      const { add } = await import('../commands/data.js');
      const { formatAdd } = await import('./data.js');
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
        const { environmentStatusCommand } = await import('../commands/agent.js');
        const { formatEnvironmentStatus } = await import('./agent.js');
        const report = await environmentStatusCommand(ctx, opts.env, opts.stateDir);
        return { json: report, text: formatEnvironmentStatus(report) };
      }
      const { status } = await import('../commands/data.js');
      const { formatStatusReport } = await import('./data.js');
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
      const { checkout } = await import('../commands/data.js');
      const { formatCheckout } = await import('./data.js');
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
      const { commit } = await import('../commands/data.js');
      const { formatCommit } = await import('./data.js');
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
        const { gc } = await import('../commands/gc.js');
        const { formatGc } = await import('./data.js');
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
      const { fsck } = await import('../commands/gc.js');
      const { formatFsck } = await import('./data.js');
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
      const { unprotect } = await import('../commands/data.js');
      const { formatUnprotect } = await import('./data.js');
      const changed = await unprotect(ctx, targets);
      return { json: changed, text: formatUnprotect(changed) };
    }),
  );

// ModelKits (src/modelkit, src/oci)
// Registry transfers: the transport flags on the ModelKit commands that can reach a registry.
type RemoteFlags = import('../commands/options.js').RemoteFlags;
const kitopsOption = (): Option =>
  new Option('--kitops', "use kit's local store ($KITOPS_HOME/storage) instead of Cairn's");
const collect = (value: string, previous: string[]): string[] => [...previous, value];

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
    action(
      async (
        ctx,
        dir: string | undefined,
        opts: {
          file?: string;
          tag: string[];
          compression: string;
          layerFormat: string;
          kitops?: boolean;
        },
      ) => {
        const { kitPack } = await import('../commands/kit.js');
        const { formatPack } = await import('./kit.js');
        const result = await kitPack(ctx, {
          dir: dir ?? '.',
          ...(opts.file === undefined ? {} : { file: opts.file }),
          tags: opts.tag,
          compression: opts.compression,
          layerFormat: opts.layerFormat === 'raw' ? 'raw' : 'tar',
          kitops: opts.kitops === true,
        });
        return { json: result, text: formatPack(result) };
      },
    ),
  );

const unpackCommand = program
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
withRegistryFlags(unpackCommand, true).action(
  action(
    async (
      ctx,
      ref: string,
      opts: {
        dir: string;
        overwrite?: boolean;
        ignoreExisting?: boolean;
        filter: string[];
        kitops?: boolean;
      } & RemoteFlags,
    ) => {
      const { unpackLocalOrRemote } = await import('../commands/kit-unpack.js');
      const { formatUnpack } = await import('./kit.js');
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
    },
  ),
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
      const { kitList } = await import('../commands/kit.js');
      const { formatList } = await import('./kit.js');
      const remote = await import('../commands/remote-kit.js');
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
      const { formatInfo, infoJson } = await import('./kit.js');
      let info;
      if (opts.remote === true) {
        const { remoteInfo } = await import('../commands/remote-kit.js');
        info = await remoteInfo(ctx, ref, opts);
      } else {
        const { kitInfo } = await import('../commands/kit.js');
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
    const { kitInspect } = await import('../commands/kit.js');
    const { remoteInspect } = await import('../commands/remote-kit.js');
    const result =
      opts.remote === true
        ? await remoteInspect(ctx, ref, opts)
        : await kitInspect(ctx, ref, { kitops: opts.kitops === true });
    return { json: result, text: JSON.stringify(result, null, 2) };
  }),
);

program
  .command('tag <source> <target>')
  .description('tag a stored ModelKit with another reference')
  .addOption(kitopsOption())
  .action(
    action(async (ctx, source: string, target: string, opts: { kitops?: boolean }) => {
      const { kitTag } = await import('../commands/kit.js');
      const { formatTagged } = await import('./kit.js');
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
  action(
    async (
      ctx,
      refs: string[],
      opts: { force?: boolean; all?: boolean; kitops?: boolean; remote?: boolean } & RemoteFlags,
    ) => {
      if (opts.remote === true) {
        const { remoteRemove } = await import('../commands/remote-kit.js');
        const { formatRemoteRemoved } = await import('./remote.js');
        if (refs.length !== 1 || opts.all === true) {
          const { CairnError } = await import('../core/errors.js');
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
      const { kitRemove } = await import('../commands/kit.js');
      const { formatRemoved } = await import('./kit.js');
      const result = await kitRemove(ctx, refs, {
        force: opts.force === true,
        all: opts.all === true,
        kitops: opts.kitops === true,
      });
      return { json: result, text: formatRemoved(result) };
    },
  ),
);

program
  .command('diff <a> <b>')
  .description('compare two ModelKits: config, annotations, shared and unique layers')
  .addOption(kitopsOption())
  .action(
    action(async (ctx, a: string, b: string, opts: { kitops?: boolean }) => {
      const { kitDiff } = await import('../commands/kit.js');
      const { formatDiff } = await import('./kit.js');
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
    action(
      async (
        ctx,
        dir: string | undefined,
        opts: { name?: string; desc?: string; author?: string; force?: boolean },
      ) => {
        const { kitInit } = await import('../commands/kit-init.js');
        const result = await kitInit(ctx, {
          dir: dir ?? '.',
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.desc === undefined ? {} : { description: opts.desc }),
          ...(opts.author === undefined ? {} : { author: opts.author }),
          force: opts.force === true,
        });
        return { json: result, text: `Wrote ${result.file}` };
      },
    ),
  );

// Registry login (src/commands/login.ts, src/oci/registry/{auth,credentials}.ts)

withRegistryFlags(
  program
    .command('login <registry>')
    .description("check a registry login, then keep it in Cairn's credentials file")
    .option('-u, --username <user>', 'the account name')
    .option('-p, --password <password>', 'the password or token (prefer --password-stdin)')
    .option('--password-stdin', 'read the password or token from stdin'),
).action(
  action(
    async (
      ctx,
      registry: string,
      opts: RegistryFlags & { username?: string; password?: string; passwordStdin?: boolean },
    ) => {
      const { login } = await import('../commands/login.js');
      const { registryOptions } = await import('../commands/options.js');
      const result = await login(ctx, registry, {
        ...(opts.username === undefined ? {} : { username: opts.username }),
        ...(opts.password === undefined ? {} : { password: opts.password }),
        passwordStdin: opts.passwordStdin === true,
        registry: registryOptions(opts, ctx.env),
        terminal: { input: process.stdin, output: process.stderr },
      });
      const { formatLogin } = await import('./remote.js');
      return { json: result, text: formatLogin(result) };
    },
  ),
);

withRegistryFlags(
  program
    .command('logout <registry>')
    .description("forget a registry login kept in Cairn's credentials file"),
).action(
  action(async (ctx, registry: string, opts: RegistryFlags) => {
    const { logout } = await import('../commands/login.js');
    const { registryOptions } = await import('../commands/options.js');
    const result = await logout(ctx, registry, registryOptions(opts, ctx.env));
    const { formatLogout } = await import('./remote.js');
    return { json: result, text: formatLogout(result) };
  }),
);
// End of registry login

// Registry transfers (src/oci/registry, src/commands/remote.ts)
// undici parses HTTP with llhttp compiled to WebAssembly; V8 then re-compiles it optimised on a
// background thread, and node waits ~150 ms for that at exit. The baseline code parses headers
// fast enough and bodies pass through untouched, so the CLI (not the library) stays on it.
v8.setFlagsFromString('--liftoff-only');

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
    const { pushCommand } = await import('../commands/remote.js');
    const { formatTransfer } = await import('./remote.js');
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
    const { pullCommand } = await import('../commands/remote.js');
    const { formatTransfer } = await import('./remote.js');
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
    const { remoteReferrers } = await import('../commands/remote-kit.js');
    const { formatReferrers } = await import('./remote.js');
    const result = await remoteReferrers(ctx, ref, opts);
    return { json: result, text: formatReferrers(result) };
  }),
);

// Pipelines (src/pipeline)
interface ReproFlags {
  force?: boolean;
  singleItem?: boolean;
  downstream?: boolean;
  forceDownstream?: boolean;
  pipeline?: boolean;
  allPipelines?: boolean;
  keepGoing?: boolean;
  dry?: boolean;
  allowMissing?: boolean;
  commit: boolean;
  runCache: boolean;
  jobs?: number;
}

program
  .command('repro [targets...]')
  .description('reproduce pipeline stages whose dependencies changed (dvc.yaml, dvc.lock)')
  .option('-f, --force', 'run every stage in the plan, even unchanged ones')
  .option('-s, --single-item', 'only the targets, without their upstream stages')
  .option('--downstream', 'the targets and the stages that depend on them')
  .option('--force-downstream', 'a stage that runs forces its dependents to run')
  .option('-p, --pipeline', 'the whole pipeline each target belongs to')
  .option('-P, --all-pipelines', 'every stage of every pipeline')
  .option('-k, --keep-going', 'after a failure, continue with stages that do not depend on it')
  .option('--dry', 'only print the commands that would run')
  .option('--allow-missing', 'ignore missing outputs and data that is not in the cache')
  .option('--no-commit', 'do not store outputs in the cache')
  .option('--no-run-cache', 'neither restore from nor save to the run-cache')
  .option('-j, --jobs <n>', 'stages run at once (default: cores)', positiveInteger)
  .action(
    action(
      async (ctx, targets: string[], opts: ReproFlags) => {
        const { repro } = await import('../commands/pipeline.js');
        const { formatSummary } = await import('./pipeline.js');
        const result = await repro(ctx, targets, {
          force: opts.force === true,
          single: opts.singleItem === true,
          downstream: opts.downstream === true,
          forceDownstream: opts.forceDownstream === true,
          pipeline: opts.pipeline === true,
          allPipelines: opts.allPipelines === true,
          keepGoing: opts.keepGoing === true,
          dry: opts.dry === true,
          allowMissing: opts.allowMissing === true,
          noCommit: !opts.commit,
          noRunCache: !opts.runCache,
          ...(opts.jobs === undefined ? {} : { jobs: opts.jobs }),
        });
        return {
          json: { type: 'summary', ...result },
          text: formatSummary(result),
          exitCode: result.failed ? 1 : 0,
        };
      },
      (_targets, opts) => ({
        lineStream: true,
        // Stage output is prefixed on a terminal, and in pipes whenever stages may interleave.
        prefixStages: process.stdout.isTTY || (opts.jobs ?? os.availableParallelism()) > 1,
      }),
    ),
  );

program
  .command('dag [target]')
  .description('show the stages of the pipeline and how they depend on each other')
  .addOption(new Option('--dot', 'Graphviz dot').conflicts(['mermaid']))
  .option('--mermaid', 'a Mermaid flowchart')
  .action(
    action(async (ctx, target: string | undefined, opts: { dot?: boolean; mermaid?: boolean }) => {
      const { dag } = await import('../commands/pipeline.js');
      const { renderDag } = await import('./pipeline.js');
      const view = await dag(ctx, target);
      const format = opts.dot === true ? 'dot' : opts.mermaid === true ? 'mermaid' : 'text';
      return { json: view, text: renderDag(view, format) };
    }),
  );

// Metrics, params, plots and reports (src/metrics): the workspace and git revisions compared.
interface TableOpts {
  md?: boolean;
  precision: number;
}
const precisionOption = (): Option =>
  new Option('--precision <n>', 'digits after the point floats are rounded to')
    .argParser(positiveInteger)
    .default(5);
const metrics = program.command('metrics').description('show and compare metrics files');
metrics
  .command('show [targets...]')
  .description('print the metrics files dvc.yaml declares (or the targets)')
  .option('-a, --all-branches', 'also every branch')
  .option('-T, --all-tags', 'also every tag')
  .option('-A, --all-commits', 'also every commit')
  .option('--md', 'a Markdown table')
  .addOption(precisionOption())
  .action(
    action(
      async (
        ctx,
        targets: string[],
        opts: TableOpts & { allBranches?: boolean; allTags?: boolean; allCommits?: boolean },
      ) => {
        const { metricsShow } = await import('../commands/metrics.js');
        const { formatMetricsShow } = await import('./metrics.js');
        const sel = {
          allBranches: opts.allBranches === true,
          allTags: opts.allTags === true,
          allCommits: opts.allCommits === true,
        };
        const show = await metricsShow(ctx, { targets, ...sel });
        const revisions = sel.allBranches || sel.allTags || sel.allCommits;
        return {
          json: show,
          text: formatMetricsShow(show, {
            md: opts.md === true,
            precision: opts.precision,
            revisions,
          }),
        };
      },
    ),
  );
type DiffOpts = TableOpts & { all?: boolean; targets?: string[]; path: boolean };
const diffCommand = (parent: Command, what: 'Metric' | 'Param'): void => {
  parent
    .command('diff [a_rev] [b_rev]')
    .description(
      `changes in ${what === 'Metric' ? 'metrics' : 'params'} from a_rev (default HEAD) to b_rev (default the workspace)`,
    )
    .option('--all', 'unchanged values too')
    .option('--targets <paths...>', 'only these files')
    .option('--no-path', 'leave out the Path column')
    .option('--md', 'a Markdown table')
    .addOption(precisionOption())
    .action(
      action(async (ctx, a: string | undefined, b: string | undefined, opts: DiffOpts) => {
        const { metricsDiff, paramsDiff } = await import('../commands/metrics.js');
        const { formatDiff } = await import('./metrics.js');
        const o = { a, b, all: opts.all === true, targets: opts.targets ?? [] };
        const report = what === 'Metric' ? await metricsDiff(ctx, o) : await paramsDiff(ctx, o);
        return {
          json: report.diff,
          text: formatDiff(report, {
            title: what,
            md: opts.md === true,
            precision: opts.precision,
            noPath: !opts.path,
          }),
        };
      }),
    );
};
diffCommand(metrics, 'Metric');
diffCommand(program.command('params').description('compare parameters'), 'Param');

interface PlotsFlags {
  out?: string;
  html?: boolean;
  svg?: boolean;
  png?: boolean;
  template?: string;
  x?: string;
  y?: string;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  header: boolean;
  targets?: string[];
}
const plotsFlags = (c: Command): Command =>
  c
    .option('-o, --out <dir>', 'where files go', 'dvc_plots')
    .option('--html', 'write index.html with every plot (the default)')
    .option('--svg', 'write an SVG per plot')
    .option('--png', 'write a PNG per plot')
    .option(
      '-t, --template <name>',
      'template for every plot (a name, .dvc/plots/NAME.json, a path)',
    )
    .option('-x <field>', 'field for the x axis')
    .option('-y <field>', 'field for the y axis')
    .option('--title <text>', 'plot title')
    .option('--x-label <text>', 'x axis title')
    .option('--y-label <text>', 'y axis title')
    .option('--no-header', 'CSV/TSV files have no header row');
const runPlots = async (
  ctx: CommandContext,
  revs: string[],
  targets: string[],
  opts: PlotsFlags,
  json: boolean,
) => {
  const { plots } = await import('../commands/plots.js');
  const { formatPlots, plotsJson } = await import('./metrics.js');
  const anyFormat = opts.html === true || opts.svg === true || opts.png === true;
  const overrides = {
    ...(opts.template === undefined ? {} : { template: opts.template }),
    ...(opts.x === undefined ? {} : { x: opts.x }),
    ...(opts.y === undefined ? {} : { y: opts.y }),
    ...(opts.title === undefined ? {} : { title: opts.title }),
    ...(opts.xLabel === undefined ? {} : { xLabel: opts.xLabel }),
    ...(opts.yLabel === undefined ? {} : { yLabel: opts.yLabel }),
    noHeader: !opts.header,
  };
  const result = await plots(ctx, revs, {
    targets,
    overrides,
    out: opts.out,
    // --json alone prints the specs and draws nothing; a format flag draws as well.
    formats:
      json && !anyFormat
        ? undefined
        : {
            html: opts.html === true || !anyFormat,
            svg: opts.svg === true,
            png: opts.png === true,
          },
  });
  return { json: plotsJson(result), text: formatPlots(result) };
};
const plotsCommand = program.command('plots').description('draw plots dvc.yaml declares');
plotsFlags(
  plotsCommand
    .command('show [targets...]')
    .description('draw the workspace plots (or the targets) to HTML, SVG or PNG'),
).action(
  action(async (ctx, targets: string[], opts: PlotsFlags) => {
    const json = program.opts<GlobalFlags>().json === true;
    return runPlots(ctx, ['workspace'], targets, opts, json);
  }),
);
plotsFlags(
  plotsCommand
    .command('diff [revisions...]')
    .description('overlay plots of revisions (default HEAD and the workspace) in one chart each')
    .option('--targets <paths...>', 'only these plots or files'),
).action(
  action(async (ctx, revs: string[], opts: PlotsFlags) => {
    const json = program.opts<GlobalFlags>().json === true;
    const { diffRevisions } = await import('../commands/plots.js');
    return runPlots(ctx, diffRevisions(revs), opts.targets ?? [], opts, json);
  }),
);

program
  .command('report')
  .description(
    'write a Markdown report: metrics and params against a base branch, plots, stage status, ModelKit',
  )
  .option('--base <rev>', 'the branch (or revision) to compare with', 'main')
  .option(
    '-o, --out <file>',
    'the Markdown file (PNG plots go in <name>_plots/ beside it)',
    'report.md',
  )
  .action(
    action(async (ctx, opts: { base: string; out: string }) => {
      const { report } = await import('../commands/report.js');
      const result = await report(ctx, { base: opts.base, out: opts.out });
      return { json: { file: result.file, images: result.images }, text: result.file };
    }),
  );

// Experiments (src/exp): DVC's refs/exps layout, so `dvc exp show` and Cairn read the same refs.
const exp = program
  .command('exp')
  .description(
    'run, compare and keep experiments: pipeline runs with changed params, as git commits',
  );

interface ExpRunFlags {
  setParam: string[];
  name?: string;
  temp: boolean;
  force?: boolean;
  runCache: boolean;
  jobs?: number;
  queue?: boolean;
}

exp
  .command('run [targets...]')
  .description('run the pipeline with params changed (-S) in a temp worktree and commit the result')
  .option(
    '-S, --set-param <[file:]key=value>',
    'change a param; sweeps: key=range(0.1,1,0.1), key=choice(a,b), key=a,b (repeatable)',
    collect,
    [],
  )
  .option('-n, --name <name>', 'the experiment name (default: a generated adjective-noun)')
  .option('--no-temp', 'run in the workspace, as DVC does by default (leaves the results there)')
  .option('-f, --force', 'replace an experiment of the same name')
  .option('--no-run-cache', 'neither restore from nor save to the run-cache')
  .option(
    '-j, --jobs <n>',
    'stages run at once within an experiment (default: cores)',
    positiveInteger,
  )
  .option('--queue', 'add to the queue instead of running (`cairn exp queue start` runs it)')
  .action(
    action(
      async (ctx, targets: string[], opts: ExpRunFlags) => {
        if (opts.queue === true) {
          const { expQueueAdd } = await import('../commands/exp.js');
          const { formatQueued } = await import('./exp.js');
          const queued = await expQueueAdd(ctx, targets, {
            set: opts.setParam,
            ...(opts.name === undefined ? {} : { name: opts.name }),
            force: opts.force === true,
          });
          return { json: queued, text: formatQueued(queued) };
        }
        const { expRun } = await import('../commands/exp.js');
        const { formatExpRun } = await import('./exp.js');
        const result = await expRun(ctx, targets, {
          set: opts.setParam,
          ...(opts.name === undefined ? {} : { name: opts.name }),
          temp: opts.temp,
          force: opts.force === true,
          noRunCache: !opts.runCache,
          ...(opts.jobs === undefined ? {} : { jobs: opts.jobs }),
        });
        return { json: result, text: formatExpRun(result), exitCode: result.failed ? 1 : 0 };
      },
      { prefixStages: true },
    ),
  );

interface ExpShowFlags {
  csv?: boolean;
  md?: boolean;
  sortBy?: string;
  sortOrder: 'asc' | 'desc';
  onlyChanged?: boolean;
  allBaselines?: boolean;
  rev: string[];
  precision: number;
  hideWorkspace?: boolean;
}

exp
  .command('show')
  .description('one row per experiment with its params and metrics, grouped under its baseline')
  .addOption(new Option('--csv', 'comma-separated values').conflicts(['md']))
  .option('--md', 'a Markdown table')
  .option('--sort-by <column>', 'sort experiments by a metric or param (key or file:key)')
  .addOption(
    new Option('--sort-order <order>', 'with --sort-by').choices(['asc', 'desc']).default('asc'),
  )
  .option('--only-changed', 'only the columns whose values differ')
  .option('-A, --all-baselines', 'the experiments of every baseline, not only HEAD')
  .option('--rev <rev>', 'the experiments of this baseline (repeatable)', collect, [])
  .option('--precision <n>', 'significant digits of numbers', positiveInteger, 5)
  .option('--hide-workspace', 'leave out the workspace row')
  .action(
    action(async (ctx, opts: ExpShowFlags) => {
      const { expShow } = await import('../commands/exp.js');
      const { buildTable } = await import('../exp/table.js');
      const { formatExpShow } = await import('./exp.js');
      const data = await expShow(ctx, { all: opts.allBaselines === true, revs: opts.rev });
      if (opts.hideWorkspace === true) delete data.workspace;
      // Built before returning, so a bad --sort-by is an error with --json too.
      const table = buildTable(data, {
        ...(opts.sortBy === undefined ? {} : { sortBy: opts.sortBy }),
        sortOrder: opts.sortOrder,
        onlyChanged: opts.onlyChanged === true,
      });
      const format = opts.csv === true ? 'csv' : opts.md === true ? 'md' : 'text';
      return { json: data, text: () => formatExpShow(table, format, opts.precision) };
    }),
  );

exp
  .command('list')
  .alias('ls')
  .description("the experiments' names, under their baselines")
  .option('-A, --all-baselines', 'every baseline, not only HEAD')
  .option('--rev <rev>', 'the experiments of this baseline')
  .action(
    action(async (ctx, opts: { allBaselines?: boolean; rev?: string }) => {
      const { expList } = await import('../commands/exp.js');
      const { formatExpList } = await import('./exp.js');
      const groups = await expList(ctx, {
        all: opts.allBaselines === true,
        ...(opts.rev === undefined ? {} : { rev: opts.rev }),
      });
      return { json: groups, text: formatExpList(groups) };
    }),
  );

exp
  .command('diff [a] [b]')
  .description('params and metrics of B against A (default: the workspace against its baseline)')
  .option('--all', 'unchanged values too')
  .option('--md', 'a Markdown table')
  .option('--precision <n>', 'significant digits of numbers', positiveInteger, 5)
  .action(
    action(
      async (
        ctx,
        a: string | undefined,
        b: string | undefined,
        opts: { all?: boolean; md?: boolean; precision: number },
      ) => {
        const { expDiff } = await import('../commands/exp.js');
        const { formatExpDiff } = await import('./exp.js');
        // One argument compares that experiment with its baseline.
        const d =
          b === undefined && a !== undefined
            ? await expDiff(ctx, undefined, a, { all: opts.all === true })
            : await expDiff(ctx, a, b, { all: opts.all === true });
        return {
          json: { params: d.params, metrics: d.metrics },
          text: formatExpDiff(d, opts.md === true, opts.precision),
        };
      },
    ),
  );

exp
  .command('apply <name>')
  .description("set the workspace's files and outputs to the experiment's")
  .option('-f, --force', 'overwrite uncommitted changes')
  .action(
    action(async (ctx, name: string, opts: { force?: boolean }) => {
      const { expApply } = await import('../commands/exp.js');
      const { formatApply } = await import('./exp.js');
      const result = await expApply(ctx, name, { force: opts.force === true });
      return { json: result, text: formatApply(result) };
    }),
  );

exp
  .command('branch <name> <branch>')
  .description('make a git branch of an experiment')
  .action(
    action(async (ctx, name: string, branch: string) => {
      const { expBranch } = await import('../commands/exp.js');
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
      const { expRemove } = await import('../commands/exp.js');
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
          const { expPush, expPull } = await import('../commands/exp.js');
          const { formatExpSync } = await import('./exp.js');
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

const queue = exp
  .command('queue')
  .description('run queued experiments (`cairn exp run --queue`) N at a time');

queue
  .command('start')
  .description('run the queue until it is empty, N experiments at a time (in the foreground)')
  .option('-j, --jobs <n>', 'experiments at once', positiveInteger, 1)
  .action(
    action(async (ctx, opts: { jobs: number }) => {
      const { expQueueStart } = await import('../commands/exp.js');
      const script = process.argv[1];
      const result = await expQueueStart(ctx, {
        jobs: opts.jobs,
        worker: [process.execPath, ...(script === undefined ? [] : [script])],
      });
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
      const { expQueueStatus } = await import('../commands/exp.js');
      const { formatQueueStatus } = await import('./exp.js');
      const entries = await expQueueStatus(ctx);
      return { json: entries, text: formatQueueStatus(entries) };
    }),
  );

queue
  .command('logs <id>')
  .description("a queued experiment's output (by id or name)")
  .action(
    action(async (ctx, id: string) => {
      const { expQueueLogs } = await import('../commands/exp.js');
      const text = await expQueueLogs(ctx, id);
      return { json: { id, log: text }, text };
    }),
  );

queue
  .command('kill <ids...>')
  .description('stop running experiments (by id or name)')
  .action(
    action(async (ctx, ids: string[]) => {
      const { expQueueKill } = await import('../commands/exp.js');
      const killed = await expQueueKill(ctx, ids);
      return { json: killed, text: killed.map((id) => `Stopping ${id}.`).join('\n') };
    }),
  );

queue
  .command('remove <ids...>')
  .description('drop queued or failed entries (by id or name)')
  .action(
    action(async (ctx, ids: string[]) => {
      const { expQueueRemove } = await import('../commands/exp.js');
      const removed = await expQueueRemove(ctx, ids);
      return { json: removed, text: removed.map((id) => `Removed queue entry ${id}.`).join('\n') };
    }),
  );

queue
  .command('exec <id>', { hidden: true })
  .description("the queue's worker: runs one claimed entry")
  .action(
    action(
      async (ctx, id: string) => {
        const { expQueueExec } = await import('../commands/exp.js');
        const { formatExpRun } = await import('./exp.js');
        const result = await expQueueExec(ctx, id);
        const run = { experiments: [result], failed: result.failed };
        return { json: run, text: formatExpRun(run), exitCode: result.failed ? 1 : 0 };
      },
      { prefixStages: true },
    ),
  );

// GitOps (src/deploy): every change to environments/<env>.yaml is a commit.
withRegistryFlags(
  program
    .command('deploy <env> <ref>')
    .description(
      'declare a ModelKit (resolved to its digest) in environments/<env>.yaml, as one commit',
    )
    .option('--model <name>', "the model's name in the environment (default: the Kitfile's)")
    .option(
      '--canary <steps>',
      'roll out in steps: 10,25,50 (each waits for passing analysis) or 10:30s,50:1m (pauses)',
    )
    .option('--push', "push the commit to the branch's upstream")
    .addOption(kitopsOption()),
  true,
).action(
  action(async (ctx, env: string, ref: string, opts: DeployFlags) => {
    const { deployCommand } = await import('../commands/deploy.js');
    const { formatCommitted } = await import('./deploy.js');
    const result = await deployCommand(ctx, env, ref, opts);
    return { json: result, text: formatCommitted(result) };
  }),
);

program
  .command('promote <from> <to>')
  .description('copy the digests environment <from> declares into <to>, as one commit')
  .option('--push', "push the commit to the branch's upstream")
  .action(
    action(async (ctx, from: string, to: string, opts: { push?: boolean }) => {
      const { promoteCommand } = await import('../commands/deploy.js');
      const { formatCommitted } = await import('./deploy.js');
      const result = await promoteCommand(ctx, from, to, opts);
      return { json: result, text: formatCommitted(result) };
    }),
  );

program
  .command('rollback <env>')
  .description(
    'commit the digests <env> declared at an earlier revision (default: before its last change)',
  )
  .option('--to <revision>', 'the git revision whose digests to declare again')
  .option('--push', "push the commit to the branch's upstream")
  .action(
    action(async (ctx, env: string, opts: { to?: string; push?: boolean }) => {
      const { rollbackCommand } = await import('../commands/deploy.js');
      const { formatCommitted } = await import('./deploy.js');
      const result = await rollbackCommand(ctx, env, opts.to, opts);
      return { json: result, text: formatCommitted(result) };
    }),
  );

program
  .command('history <env>')
  .description('every deploy, promote, rollback and hand edit of environments/<env>.yaml')
  .action(
    action(async (ctx, env: string) => {
      const { historyCommand } = await import('../commands/deploy.js');
      const { formatHistory } = await import('./deploy.js');
      const entries = await historyCommand(ctx, env);
      return { json: entries, text: formatHistory(env, entries) };
    }),
  );

const render = program.command('render').description('render an environment for another system');
render
  .command('k8s <env>')
  .description('Kubernetes manifests (Deployment, Service; or KServe) for Flux or Argo CD')
  .option('-o, --output <dir>', 'folder to write (default deploy/<env>); - prints one stream')
  .option('--kserve', 'KServe InferenceServices and a ServingRuntime instead')
  .option('--image <image>', 'the Cairn container image')
  .option('--namespace <ns>', 'namespace set on every object')
  .option('--registry-secret <name>', 'dockerconfigjson Secret the init container logs in with')
  .action(
    action(
      async (
        ctx,
        env: string,
        opts: {
          output?: string;
          kserve?: boolean;
          image?: string;
          namespace?: string;
          registrySecret?: string;
        },
      ) => {
        const { renderK8sCommand } = await import('../commands/deploy.js');
        const { formatRendered } = await import('./deploy.js');
        const result = await renderK8sCommand(ctx, env, opts.output, {
          kserve: opts.kserve === true,
          image: opts.image,
          namespace: opts.namespace,
          registrySecret: opts.registrySecret,
        });
        return { json: result, text: formatRendered(result) };
      },
    ),
  );

// CI reports on forges (src/forge): CML's `comment` and a workflow that uses it.
const forgeKind = (value: string): 'github' | 'gitlab' => {
  if (value !== 'github' && value !== 'gitlab') throw new InvalidArgumentError('github or gitlab');
  return value;
};
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
    .option('--driver <forge>', 'github or gitlab, when the CI environment does not say', forgeKind)
    .option('--repo <repo>', 'owner/name (GitHub) or project id or path (GitLab), outside CI')
    .action(
      action(async (ctx, file: string, opts: CommentFlags) => {
        const { commentCommand } = await import('../commands/comment.js');
        const { formatComment } = await import('./forge.js');
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
      const { ciInitCommand } = await import('../commands/ci.js');
      const { formatCiInit } = await import('./forge.js');
      const result = await ciInitCommand(ctx, forge, opts);
      return { json: result, text: formatCiInit(result, ctx.cwd) };
    }),
  );

// The agent (src/deploy/agent.ts): reconciles environments in git to local workers.
withRegistryFlags(
  program
    .command('agent')
    .description('follow environments in a git repository and serve them here, with canaries')
    .requiredOption('--repo <url|path>', 'the git repository: a path, file://, http(s):// or ssh')
    .option('--branch <name>', 'the branch to follow', 'main')
    .option(
      '--env <env>',
      'an environment to follow (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
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
).action(async (opts: AgentCliFlags, command: Command) => {
  const flags = command.optsWithGlobals<GlobalFlags>();
  const { ctx, done } = context(flags, {});
  const { runAgent } = await import('./agent.js');
  process.exitCode = await runAgent(ctx, opts, flags.json === true, done);
});

// Serving (src/serve): runs until SIGTERM or SIGINT, then drains.
withRegistryFlags(
  program
    .command('serve [sources...]')
    .description(
      'serve ONNX models (files, Kitfile folders, ModelKits) over the Open Inference Protocol',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', nonNegativeInteger, 8080)
    .option('--max-body <bytes>', 'largest request body', positiveInteger, 64 * 1024 * 1024)
    .option('--drain-timeout <duration>', 'how long requests may finish after SIGTERM', '30s')
    .option(
      '--threads <n>',
      'ONNX Runtime threads per model (default: its own choice)',
      positiveInteger,
    )
    .option('--config <file>', 'serve.yaml: models, versions, runtimes, batching, traffic')
    .option(
      '--grpc-port <port>',
      'also serve OIP over gRPC (0 picks a free port)',
      nonNegativeInteger,
    )
    .option('--log-sample <share>', 'share of requests the prediction log records (0 to 1)', Number)
    .option('--log-dir <dir>', 'where prediction logs go (default .cairn/predictions)')
    .option('--exit-with-stdin', 'drain and exit when stdin ends (for a supervising process)')
    .addOption(kitopsOption()),
).action(async (sources: string[], opts: ServeFlags, command: Command) => {
  const flags = command.optsWithGlobals<GlobalFlags>();
  const { ctx, done } = context(flags, {});
  const { runServe } = await import('./serve.js');
  process.exitCode = await runServe(ctx, sources, opts, flags.json === true, done);
});

program.exitOverride((error) => {
  // commander has printed its own message for usage errors; help and version exit 0.
  process.exit(error.exitCode === 0 ? 0 : 2);
});

await program.parseAsync(process.argv);
