/** The data-versioning commands: add, status, checkout, commit, unprotect. */
import { openRepo } from '../core/repo.js';
import { addTargets, type AddedOutput } from '../data/add.js';
import {
  checkoutTargets,
  selectDvcFiles,
  type CheckoutOptions,
  type CheckoutSummary,
} from '../data/checkout.js';
import { commitTargets } from '../data/commit.js';
import { outPath } from '../data/dvcfile.js';
import { unprotectFile } from '../data/link.js';
import { dataStatus, type StatusReport } from '../data/status.js';
import { Workspace } from '../data/workspace.js';
import { declaredOutputs } from '../pipeline/declared-outputs.js';
import type { PipelineStatusReport } from '../pipeline/status.js';
import type { CommandContext } from './context.js';
import fs from 'node:fs';
import path from 'node:path';

async function withWorkspace<T>(
  ctx: CommandContext,
  lockFor: string | undefined,
  body: (ws: Workspace) => Promise<T>,
): Promise<T> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  const ws = new Workspace(repo, ctx.sink);
  try {
    if (lockFor === undefined) return await body(ws);
    await using _lock = await ws.lock(lockFor);
    return await body(ws);
  } finally {
    await ws.close();
  }
}

export function add(ctx: CommandContext, targets: readonly string[]): Promise<AddedOutput[]> {
  return withWorkspace(ctx, `cairn add ${targets.join(' ')}`, (ws) =>
    addTargets(ws, ctx.cwd, targets, declaredOutputs),
  );
}

/** Pipeline stages (src/pipeline/status.ts) then .dvc files; targets may name either. */
export function status(
  ctx: CommandContext,
  targets: readonly string[],
): Promise<PipelineStatusReport> {
  return withWorkspace(ctx, undefined, async (ws) => {
    const { pipelineStatus } = await import('../pipeline/status.js');
    const { report, rest } = await pipelineStatus(ws, ctx.cwd, targets);
    if (targets.length > 0 && rest.length === 0) return report;
    const data: StatusReport = await dataStatus(ws, ctx.cwd, rest);
    return { ...report, ...data };
  });
}

export function checkout(
  ctx: CommandContext,
  targets: readonly string[],
  options: CheckoutOptions,
): Promise<CheckoutSummary> {
  return withWorkspace(ctx, 'cairn checkout', (ws) =>
    checkoutTargets(ws, ctx.cwd, targets, options),
  );
}

export function commit(ctx: CommandContext, targets: readonly string[]): Promise<AddedOutput[]> {
  return withWorkspace(ctx, 'cairn commit', (ws) => commitTargets(ws, ctx.cwd, targets));
}

/** Replaces linked or read-only workspace files of the targets with writable copies. */
export function unprotect(ctx: CommandContext, targets: readonly string[]): Promise<string[]> {
  return withWorkspace(ctx, 'cairn unprotect', async (ws) => {
    const changed: string[] = [];
    for (const dvc of await selectDvcFiles(ws, ctx.cwd, targets)) {
      for (const out of dvc.outs) {
        const abs = outPath(dvc, out);
        for (const file of listFiles(abs)) {
          if (await unprotectFile(file, ws.stagingDir)) changed.push(ws.rel(file));
        }
      }
    }
    return changed;
  });
}

function listFiles(abs: string): string[] {
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (st === undefined) return [];
  if (!st.isDirectory()) return [abs];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .flatMap((e) => listFiles(path.join(abs, e.name)));
}
