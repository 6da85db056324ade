/** Puts a stage's recorded outputs back from the cache (run-cache hits). */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { legacyLayout, objectPath } from '../data/cache.js';
import { chooseLinkType, placeObject } from '../data/link.js';
import { parseManifest } from '../data/manifest.js';
import type { Workspace } from '../data/workspace.js';
import type { LockItem } from './lockfile.js';

export async function restoreOutput(ws: Workspace, abs: string, item: LockItem): Promise<void> {
  if (item.md5 === undefined) throw new Error(`Internal error: no md5 to restore ${item.path}`);
  const cache = item.hash === undefined ? legacyLayout(ws.cache) : ws.cache;
  const type = chooseLinkType(cache, ws.stagingDir, ws.repo.config.cache.type);
  await fsp.rm(abs, { recursive: true, force: true });
  if (!item.md5.endsWith('.dir')) {
    await placeObject(cache, item.md5, abs, type, ws.stagingDir, item.isexec);
    return;
  }
  const manifestPath = objectPath(cache, item.md5);
  const entries = parseManifest(fs.readFileSync(manifestPath), manifestPath);
  await fsp.mkdir(abs, { recursive: true });
  for (const e of entries) {
    await placeObject(
      cache,
      e.md5,
      path.join(abs, ...e.relpath.split('/')),
      type,
      ws.stagingDir,
      false,
    );
  }
}
