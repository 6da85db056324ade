/**
 * Data status in DVC's vocabulary: for each `.dvc` file, the outputs that are `modified`,
 * `deleted` from the workspace, or `not in cache`.
 */
import fs from 'node:fs';
import { isDirMd5 } from '../core/digest.js';
import { legacyLayout, objectPath, type CacheLayout } from './cache.js';
import { indexKey } from './index.js';
import { outPath } from './dvcfile.js';
import { selectDvcFiles } from './checkout.js';
import { parseManifest, type ManifestEntry } from './manifest.js';
import { objectsPresent } from './cache-trust.js';
import { hashOutput } from './tree.js';
import type { Workspace } from './workspace.js';

export type OutStatus = 'modified' | 'deleted' | 'not in cache' | 'new';

/** dvc status --json shape: `{ "data.dvc": [{ "changed outs": { "data": "modified" } }] }` */
export type StatusReport = Record<string, { 'changed outs': Record<string, OutStatus> }[]>;

export async function dataStatus(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
): Promise<StatusReport> {
  const report: StatusReport = {};
  for (const dvc of await selectDvcFiles(ws, cwd, targets)) {
    const changed: Record<string, OutStatus> = {};
    for (const out of dvc.outs) {
      const abs = outPath(dvc, out);
      const name = out.path;
      if (!fs.existsSync(abs)) {
        changed[name] = 'deleted';
        continue;
      }
      // DVC 2.x records (no `hash: md5`) compare with md5-dos2unix against the legacy store.
      const legacy = out.hash === undefined;
      const cache = legacy ? legacyLayout(ws.cache) : ws.cache;
      const info = await hashOutput(ws, abs, { store: false, legacy });
      if (out.md5 === undefined) {
        changed[name] = 'new';
        continue;
      }
      if (info.md5 !== out.md5) {
        changed[name] = 'modified';
        continue;
      }
      const md5 = out.md5;
      if (
        out.cache &&
        !objectsPresent(ws, cache, indexKey(ws.rel(abs), legacy), md5, () =>
          manifestEntries(cache, md5),
        )
      ) {
        changed[name] = 'not in cache';
      }
    }
    if (Object.keys(changed).length > 0) report[ws.rel(dvc.file)] = [{ 'changed outs': changed }];
  }
  return report;
}

function manifestEntries(cache: CacheLayout, md5: string): ManifestEntry[] | undefined {
  if (!isDirMd5(md5 as never)) return [];
  const p = objectPath(cache, md5);
  if (!fs.existsSync(p)) return undefined;
  return parseManifest(fs.readFileSync(p), p);
}
