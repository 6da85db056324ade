/** The GitOps commands (src/deploy): every change to environments/<env>.yaml is a commit. */
import type { Command } from 'commander';
import { withRegistryFlags } from '../registry-flags.js';
import { action } from './action.js';
import { kitopsOption, pushOption } from './options.js';
import type { DeployFlags } from '../../commands/deploy.js';

interface RenderK8sFlags {
  output?: string;
  kserve?: boolean;
  image?: string;
  namespace?: string;
  registrySecret?: string;
}

export function register(program: Command): void {
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
      .addOption(pushOption())
      .addOption(kitopsOption()),
    true,
  ).action(
    action(async (ctx, env: string, ref: string, opts: DeployFlags) => {
      const { deployCommand } = await import('../../commands/deploy.js');
      const { formatCommitted } = await import('../deploy.js');
      const result = await deployCommand(ctx, env, ref, opts);
      return { json: result, text: formatCommitted(result) };
    }),
  );

  program
    .command('promote <from> <to>')
    .description('copy the digests environment <from> declares into <to>, as one commit')
    .addOption(pushOption())
    .action(
      action(async (ctx, from: string, to: string, opts: { push?: boolean }) => {
        const { promoteCommand } = await import('../../commands/deploy.js');
        const { formatCommitted } = await import('../deploy.js');
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
    .addOption(pushOption())
    .action(
      action(async (ctx, env: string, opts: { to?: string; push?: boolean }) => {
        const { rollbackCommand } = await import('../../commands/deploy.js');
        const { formatCommitted } = await import('../deploy.js');
        const result = await rollbackCommand(ctx, env, opts.to, opts);
        return { json: result, text: formatCommitted(result) };
      }),
    );

  program
    .command('history <env>')
    .description('every deploy, promote, rollback and hand edit of environments/<env>.yaml')
    .action(
      action(async (ctx, env: string) => {
        const { historyCommand } = await import('../../commands/deploy.js');
        const { formatHistory } = await import('../deploy.js');
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
      action(async (ctx, env: string, opts: RenderK8sFlags) => {
        const { renderK8sCommand } = await import('../../commands/deploy.js');
        const { formatRendered } = await import('../deploy.js');
        const result = await renderK8sCommand(ctx, env, opts.output, {
          kserve: opts.kserve === true,
          image: opts.image,
          namespace: opts.namespace,
          registrySecret: opts.registrySecret,
        });
        return { json: result, text: formatRendered(result) };
      }),
    );
}
