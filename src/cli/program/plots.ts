/** `cairn plots` (show, diff) and `cairn report`: charts and the Markdown report of a CI run. */
import type { Command } from 'commander';
import { action, type GlobalFlags } from './action.js';
import type { CommandContext } from '../../commands/context.js';
import type { PlotOverrides } from '../../metrics/plot-defs.js';

/** The plot overrides as commander names them (`--no-header` sets `header`), and the outputs. */
interface PlotsFlags extends Omit<PlotOverrides, 'noHeader'> {
  out?: string;
  html?: boolean;
  svg?: boolean;
  png?: boolean;
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

async function runPlots(
  ctx: CommandContext,
  revs: string[],
  targets: string[],
  opts: PlotsFlags,
  json: boolean,
) {
  const { plots } = await import('../../commands/plots.js');
  const { formatPlots, plotsJson } = await import('../metrics.js');
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
}

export function register(program: Command): void {
  const json = (): boolean => program.opts<GlobalFlags>().json === true;
  const plots = program.command('plots').description('draw plots dvc.yaml declares');
  plotsFlags(
    plots
      .command('show [targets...]')
      .description('draw the workspace plots (or the targets) to HTML, SVG or PNG'),
  ).action(
    action(async (ctx, targets: string[], opts: PlotsFlags) =>
      runPlots(ctx, ['workspace'], targets, opts, json()),
    ),
  );
  plotsFlags(
    plots
      .command('diff [revisions...]')
      .description('overlay plots of revisions (default HEAD and the workspace) in one chart each')
      .option('--targets <paths...>', 'only these plots or files'),
  ).action(
    action(async (ctx, revs: string[], opts: PlotsFlags) => {
      const { diffRevisions } = await import('../../commands/plots.js');
      return runPlots(ctx, diffRevisions(revs), opts.targets ?? [], opts, json());
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
        const { report } = await import('../../commands/report.js');
        const result = await report(ctx, { base: opts.base, out: opts.out });
        return { json: { file: result.file, images: result.images }, text: result.file };
      }),
    );
}
