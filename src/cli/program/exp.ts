/**
 * `cairn exp` (src/exp): DVC's refs/exps layout, so `dvc exp show` and Cairn read the same refs.
 * Here run, show, list and diff; the rest in exp-manage.ts and exp-queue.ts.
 */
import { Option, type Command } from 'commander';
import { positiveInteger } from '../registry-flags.js';
import { action } from './action.js';
import { register as registerManage } from './exp-manage.js';
import { register as registerQueue } from './exp-queue.js';
import { collect, markdownOption, precisionOption } from './options.js';

interface ExpRunFlags {
  setParam: string[];
  name?: string;
  temp: boolean;
  force?: boolean;
  runCache: boolean;
  jobs?: number;
  queue?: boolean;
}

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

const significant = (): Option => precisionOption('significant digits of numbers');

function registerRun(exp: Command): void {
  exp
    .command('run [targets...]')
    .description(
      'run the pipeline with params changed (-S) in a temp worktree and commit the result',
    )
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
          const name = opts.name === undefined ? {} : { name: opts.name };
          if (opts.queue === true) {
            const { expQueueAdd } = await import('../../commands/exp.js');
            const { formatQueued } = await import('../exp.js');
            const queued = await expQueueAdd(ctx, targets, {
              set: opts.setParam,
              ...name,
              force: opts.force === true,
            });
            return { json: queued, text: formatQueued(queued) };
          }
          const { expRun } = await import('../../commands/exp.js');
          const { formatExpRun } = await import('../exp.js');
          const result = await expRun(ctx, targets, {
            set: opts.setParam,
            ...name,
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
}

function registerShow(exp: Command): void {
  exp
    .command('show')
    .description('one row per experiment with its params and metrics, grouped under its baseline')
    .addOption(new Option('--csv', 'comma-separated values').conflicts(['md']))
    .addOption(markdownOption())
    .option('--sort-by <column>', 'sort experiments by a metric or param (key or file:key)')
    .addOption(
      new Option('--sort-order <order>', 'with --sort-by').choices(['asc', 'desc']).default('asc'),
    )
    .option('--only-changed', 'only the columns whose values differ')
    .option('-A, --all-baselines', 'the experiments of every baseline, not only HEAD')
    .option('--rev <rev>', 'the experiments of this baseline (repeatable)', collect, [])
    .addOption(significant())
    .option('--hide-workspace', 'leave out the workspace row')
    .action(
      action(async (ctx, opts: ExpShowFlags) => {
        const { expShow } = await import('../../commands/exp.js');
        const { buildTable } = await import('../../exp/table.js');
        const { formatExpShow } = await import('../exp.js');
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
}

export function register(program: Command): void {
  const exp = program
    .command('exp')
    .description(
      'run, compare and keep experiments: pipeline runs with changed params, as git commits',
    );
  registerRun(exp);
  registerShow(exp);

  exp
    .command('list')
    .alias('ls')
    .description("the experiments' names, under their baselines")
    .option('-A, --all-baselines', 'every baseline, not only HEAD')
    .option('--rev <rev>', 'the experiments of this baseline')
    .action(
      action(async (ctx, opts: { allBaselines?: boolean; rev?: string }) => {
        const { expList } = await import('../../commands/exp.js');
        const { formatExpList } = await import('../exp.js');
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
    .addOption(markdownOption())
    .addOption(significant())
    .action(
      action(
        async (
          ctx,
          a: string | undefined,
          b: string | undefined,
          opts: { all?: boolean; md?: boolean; precision: number },
        ) => {
          const { expDiff } = await import('../../commands/exp.js');
          const { formatExpDiff } = await import('../exp.js');
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

  registerManage(exp);
  registerQueue(exp);
}
