/**
 * Walks a tree's units: the native scanner or hasher where it can, else scanUnit on this
 * thread for small trees and on the workers as well for large ones. Reports progress per unit.
 */
import os from 'node:os';
import { forgetFresh, type CacheLayout } from './cache.js';
import { runParallel } from './parallel.js';
import {
  hashUnitsFast,
  scanUnit,
  scanUnitsFast,
  type ScannedUnit,
  type ScanRequest,
} from './scan.js';
import type { HashContext } from './tree.js';
import type { Unit } from './units.js';

export type WalkMode = {
  hash: boolean;
  store: CacheLayout | undefined;
  legacy: boolean;
  fresh: boolean;
};

export async function runUnits(
  ctx: HashContext,
  abs: string,
  units: Unit[],
  inline: boolean,
  mode: WalkMode,
  stored: string[] | undefined,
): Promise<ScannedUnit[]> {
  try {
    return await walkTree(ctx, abs, units, inline, mode, stored);
  } finally {
    // Workers and the native hasher stored objects this thread does not know of.
    if (mode.store !== undefined) forgetFresh(mode.store);
  }
}

async function walkTree(
  ctx: HashContext,
  abs: string,
  units: Unit[],
  inline: boolean,
  mode: WalkMode,
  stored: string[] | undefined,
): Promise<ScannedUnit[]> {
  const hash = mode.hash;
  const request = (u: Unit): ScanRequest => ({
    repoRoot: ctx.repoRoot,
    root: abs,
    dirs: u.dirs,
    files: u.files,
    ...mode,
  });
  let done = 0;
  const report = (unit: ScannedUnit): ScannedUnit => {
    stored?.push(...unit.stored);
    done += unit.rels.length;
    ctx.sink({ type: 'progress', phase: hash ? 'hash' : 'scan', done });
    return unit;
  };
  if (!hash) {
    // Only listing and lstat: the native scanner does it on every core at once.
    const fast = scanUnitsFast(units.map(request), os.availableParallelism());
    if (fast.every((u) => u !== undefined)) return fast.map(report);
    if (fast.some((u) => u !== undefined)) {
      return fast.map((u, i) => report(u ?? scanUnit(request(units[i] as Unit))));
    }
  } else if (!mode.legacy) {
    // A first add: the native hasher reads, hashes and stores small files on every core,
    // without a JavaScript string or Buffer per file; what it declines goes to the workers.
    const fast = await hashUnitsFast(units.map(request), os.availableParallelism(), report);
    if (fast !== undefined) {
      const declined: ScanRequest[] = [];
      fast.forEach((u, i) => {
        if (!('declined' in u)) return;
        stored?.push(...u.stored);
        declined.push(request(units[i] as Unit));
      });
      const rest = declined.length === 0 ? [] : await walkUnits(ctx, declined, inline, report);
      return fast.map((u) => {
        if (!('declined' in u)) return u;
        const walked = rest.shift();
        if (walked === undefined) throw new Error('Internal error: a declined unit was not walked');
        return walked;
      });
    }
  }
  return walkUnits(ctx, units.map(request), inline, report);
}

/** scanUnit over requests, on this thread for small trees, else on the workers as well. */
async function walkUnits(
  ctx: HashContext,
  requests: ScanRequest[],
  inline: boolean,
  report: (unit: ScannedUnit) => ScannedUnit,
): Promise<ScannedUnit[]> {
  if (inline) return requests.map((r) => report(scanUnit(r)));
  return runParallel(
    ctx,
    requests,
    (r) => report(scanUnit(r)),
    async (pool, r) => report(await pool.run<ScannedUnit>({ kind: 'scan', request: r })),
  );
}
