/** `cairn gc` and `cairn fsck`: cache maintenance, under the repository lock. */
import { openRepo } from '../core/repo.js';
import {
  checkCache,
  collectGarbage,
  type FsckResult,
  type GcOptions,
  type GcResult,
} from '../data/gc.js';
import { Workspace } from '../data/workspace.js';
import type { CommandContext } from './context.js';

async function locked<T>(
  ctx: CommandContext,
  name: string,
  body: (ws: Workspace) => Promise<T>,
): Promise<T> {
  const ws = new Workspace(await openRepo(ctx.cwd, ctx.env), ctx.sink);
  try {
    await using _lock = await ws.lock(name);
    return await body(ws);
  } finally {
    await ws.close();
  }
}

export function gc(ctx: CommandContext, options: GcOptions): Promise<GcResult> {
  return locked(ctx, 'cairn gc', (ws) => collectGarbage(ws, options));
}

export function fsck(ctx: CommandContext): Promise<FsckResult> {
  return locked(ctx, 'cairn fsck', (ws) => checkCache(ws));
}
