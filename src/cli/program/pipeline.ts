/** The pipeline commands: repro and dag. */
import os from 'node:os';
import { Option, type Command } from 'commander';
import { positiveInteger } from '../registry-flags.js';
import { action } from './action.js';
import type { ReproOptions } from '../../commands/pipeline.js';

/** repro's flags as commander names them: `--single-item`, and `--no-commit` sets `commit`. */
interface ReproFlags extends Omit<ReproOptions, 'single' | 'noCommit' | 'noRunCache'> {
  singleItem?: boolean;
  commit: boolean;
  runCache: boolean;
}

export function register(program: Command): void {
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
          const { repro } = await import('../../commands/pipeline.js');
          const { formatSummary } = await import('../pipeline.js');
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
      action(
        async (ctx, target: string | undefined, opts: { dot?: boolean; mermaid?: boolean }) => {
          const { dag } = await import('../../commands/pipeline.js');
          const { renderDag } = await import('../pipeline.js');
          const view = await dag(ctx, target);
          const format = opts.dot === true ? 'dot' : opts.mermaid === true ? 'mermaid' : 'text';
          return { json: view, text: renderDag(view, format) };
        },
      ),
    );
}
