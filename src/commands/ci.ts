/** `cairn ci init github|gitlab`: the CI file that reports on every pull/merge request. */
import type { CiInitResult } from '../forge/ci-init.js';
import type { ForgeKind } from '../forge/env.js';
import type { CommandContext } from './context.js';

export interface CiInitFlags {
  force?: boolean;
  package?: string;
}

export async function ciInitCommand(
  ctx: CommandContext,
  forge: ForgeKind,
  flags: CiInitFlags,
): Promise<CiInitResult> {
  const { ciInit } = await import('../forge/ci-init.js');
  return ciInit({
    cwd: ctx.cwd,
    forge,
    force: flags.force === true,
    ...(flags.package === undefined ? {} : { package: flags.package }),
  });
}
