/**
 * The `cairn` command line: declares commands and flags, lazily imports the command
 * functions, renders their results, and is the only place that sets exit codes.
 */
import { Command, Option } from 'commander';
import { createRenderer } from './progress.js';
import { renderError } from './errors.js';
import type { CommandContext } from '../commands/context.js';

interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
}

function context(flags: GlobalFlags): { ctx: CommandContext; done: () => void } {
  const renderer = createRenderer({
    stream: process.stderr,
    progress: process.stderr.isTTY && flags.json !== true && flags.quiet !== true,
    quiet: flags.quiet === true,
  });
  return {
    ctx: { cwd: process.cwd(), env: process.env, sink: renderer.sink },
    done: renderer.done,
  };
}

/** Runs a command body with rendering and error handling; the body returns text or JSON. */
function action<A extends unknown[]>(
  body: (
    ctx: CommandContext,
    ...args: A
  ) => Promise<{ json: unknown; text: string; exitCode?: number }>,
) {
  return async (...args: A): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals<GlobalFlags>();
    const { ctx, done } = context(flags);
    try {
      const result = await body(ctx, ...(args.slice(0, -1) as A));
      done();
      if (flags.json === true) process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
      else if (result.text !== '' && flags.quiet !== true)
        process.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
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
      const result = await init(ctx, { noScm: !opts.scm, force: opts.force === true });
      const note =
        result.cacheDir === undefined ? '' : `\nSharing DVC's cache at ${result.cacheDir}.`;
      return { json: result, text: `Initialized Cairn repository in ${result.root}/.cairn${note}` };
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
      const entries = await configList(ctx);
      const text = entries
        .map((e) =>
          opts.showOrigin === true ? `${e.origin}\t${e.key}=${e.value}` : `${e.key}=${e.value}`,
        )
        .join('\n');
      return { json: entries, text };
    }),
  );

program
  .command('add <paths...>')
  .description('track files or directories: hash them into the cache and write <path>.dvc')
  .action(
    action(async (ctx, paths: string[]) => {
      const { add } = await import('../commands/data.js');
      const added = await add(ctx, paths);
      const text = added
        .map(
          (a) =>
            `${a.changed ? 'Added' : 'Unchanged'} ${a.path} -> ${a.dvcFile} (${a.md5}${a.nfiles === undefined ? '' : `, ${a.nfiles} files`})`,
        )
        .join('\n');
      const hint = added.some((a) => a.changed)
        ? `\nTo track the changes with git, run:\n\tgit add ${[...new Set(added.flatMap((a) => a.gitFiles))].join(' ')}`
        : '';
      return { json: added, text: `${text}${hint}` };
    }),
  );

program
  .command('status [targets...]')
  .description('show tracked data that changed in the workspace or is missing from the cache')
  .action(
    action(async (ctx, targets: string[]) => {
      const { status } = await import('../commands/data.js');
      const { formatStatus } = await import('./format.js');
      const report = await status(ctx, targets);
      return { json: report, text: formatStatus(report) };
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
      const { formatCheckout } = await import('./format.js');
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
      const saved = await commit(ctx, targets);
      const changed = saved.filter((s) => s.changed);
      const text =
        changed.length === 0
          ? 'Nothing to commit.'
          : changed.map((s) => `Committed ${s.path} (${s.md5})`).join('\n');
      return { json: saved, text };
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
        const { formatGc } = await import('./format.js');
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
      const { formatFsck } = await import('./format.js');
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
      const changed = await unprotect(ctx, targets);
      return {
        json: changed,
        text:
          changed.length === 0 ? 'Nothing to unprotect.' : `Unprotected ${changed.length} file(s).`,
      };
    }),
  );

program.exitOverride((error) => {
  // commander has printed its own message for usage errors; help and version exit 0.
  process.exit(error.exitCode === 0 ? 0 : 2);
});

await program.parseAsync(process.argv);
