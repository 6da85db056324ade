/** `cairn metrics` (show, diff) and `cairn params diff`: the workspace and revisions compared. */
import type { Command } from 'commander';
import { action } from './action.js';
import { markdownOption, precisionOption } from './options.js';

interface TableOpts {
  md?: boolean;
  precision: number;
}

interface ShowOpts extends TableOpts {
  allBranches?: boolean;
  allTags?: boolean;
  allCommits?: boolean;
}

interface DiffOpts extends TableOpts {
  all?: boolean;
  targets?: string[];
  path: boolean;
}

const rounding = (): ReturnType<typeof precisionOption> =>
  precisionOption('digits after the point floats are rounded to');

function diffCommand(parent: Command, what: 'Metric' | 'Param'): void {
  parent
    .command('diff [a_rev] [b_rev]')
    .description(
      `changes in ${what === 'Metric' ? 'metrics' : 'params'} from a_rev (default HEAD) to b_rev (default the workspace)`,
    )
    .option('--all', 'unchanged values too')
    .option('--targets <paths...>', 'only these files')
    .option('--no-path', 'leave out the Path column')
    .addOption(markdownOption())
    .addOption(rounding())
    .action(
      action(async (ctx, a: string | undefined, b: string | undefined, opts: DiffOpts) => {
        const { metricsDiff, paramsDiff } = await import('../../commands/metrics.js');
        const { formatDiff } = await import('../metrics.js');
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
}

export function register(program: Command): void {
  const metrics = program.command('metrics').description('show and compare metrics files');
  metrics
    .command('show [targets...]')
    .description('print the metrics files dvc.yaml declares (or the targets)')
    .option('-a, --all-branches', 'also every branch')
    .option('-T, --all-tags', 'also every tag')
    .option('-A, --all-commits', 'also every commit')
    .addOption(markdownOption())
    .addOption(rounding())
    .action(
      action(async (ctx, targets: string[], opts: ShowOpts) => {
        const { metricsShow } = await import('../../commands/metrics.js');
        const { formatMetricsShow } = await import('../metrics.js');
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
      }),
    );
  diffCommand(metrics, 'Metric');
  diffCommand(program.command('params').description('compare parameters'), 'Param');
}
