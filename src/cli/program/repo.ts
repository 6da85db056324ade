/** `cairn init` and `cairn config`: the repository and its settings. */
import { Option, type Command } from 'commander';
import { action } from './action.js';

type Level = { global?: boolean; local?: boolean };

const levelOptions = (c: Command): Command =>
  c
    .addOption(new Option('--global', "the user's settings file").conflicts(['local']))
    .addOption(new Option('--local', 'the untracked .cairn/config.local.yaml'));
const levelOf = (o: Level): 'global' | 'local' | 'repo' =>
  o.global === true ? 'global' : o.local === true ? 'local' : 'repo';

export function register(program: Command): void {
  program
    .command('init')
    .description('create .cairn/ in this git repository')
    .option('--no-scm', 'use Cairn without git')
    .option('-f, --force', 're-create .cairn/config.yaml if it exists')
    .action(
      action(async (ctx, opts: { scm: boolean; force?: boolean }) => {
        const { init } = await import('../../commands/init.js');
        const { formatInit } = await import('../data.js');
        const result = await init(ctx, { noScm: !opts.scm, force: opts.force === true });
        return { json: result, text: formatInit(result) };
      }),
    );

  const config = program
    .command('config')
    .description('read and write settings (repo, --local, --global)');
  config
    .command('get <key>')
    .description('print the effective value of a key')
    .action(
      action(async (ctx, key: string) => {
        const { configGet } = await import('../../commands/config.js');
        const entry = await configGet(ctx, key);
        return { json: entry, text: entry.value };
      }),
    );
  levelOptions(config.command('set <key> <value>').description('set a key')).action(
    action(async (ctx, key: string, value: string, opts: Level) => {
      const { configSet } = await import('../../commands/config.js');
      const file = await configSet(ctx, levelOf(opts), key, value);
      return { json: { key, value, file }, text: '' };
    }),
  );
  levelOptions(config.command('unset <key>').description('remove a key')).action(
    action(async (ctx, key: string, opts: Level) => {
      const { configSet } = await import('../../commands/config.js');
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
        const { configList } = await import('../../commands/config.js');
        const { formatConfigList } = await import('../config.js');
        const entries = await configList(ctx);
        return { json: entries, text: formatConfigList(entries, opts.showOrigin === true) };
      }),
    );
}
