/**
 * The cache objects experiment commits refer to, read from git without a checkout: every
 * `dvc.lock` (its outputs that the `dvc.yaml` beside it caches and lets be pushed) and every
 * `.dvc` file of each commit's tree.
 */
import path from 'node:path';
import { listBlobs, readBlobs } from '../core/git.js';
import { parseMd5 } from '../core/digest.js';
import { parseDvcFile, DVC_SUFFIX } from '../data/dvcfile.js';
import type { ObjectRef } from '../data/remote.js';
import { parseLockFile } from '../pipeline/lockfile.js';
import { parsePipeline } from '../pipeline/parse.js';
import { DVC_YAML } from '../pipeline/project.js';
import type { StageOut } from '../pipeline/stage.js';

const LOCK = 'dvc.lock';

export interface CommitToRead {
  commit: string;
  /** for messages: `experiment 'keep'` */
  label: string;
}

function wanted(p: string): boolean {
  const base = path.posix.basename(p);
  return base === LOCK || base === DVC_YAML || p.endsWith(DVC_SUFFIX);
}

/** False for outputs marked `push: false` (DVC keeps those off remotes). */
function pushable(extra: readonly [string, unknown][]): boolean {
  return !extra.some(([k, v]) => k === 'push' && v === false);
}

/** Objects of one commit's tree. */
async function objectsOf(root: string, c: CommitToRead): Promise<ObjectRef[]> {
  const files = await listBlobs(root, c.commit, wanted);
  const blobs = await readBlobs(
    root,
    files.map((f) => f.blob),
  );
  const text = (rel: string): string | undefined =>
    blobs.get(files.find((f) => f.path === rel)?.blob ?? '')?.toString('utf8');
  const found: ObjectRef[] = [];
  for (const { path: rel } of files) {
    const body = text(rel);
    if (body === undefined) continue;
    const display = `${rel} at ${c.commit.slice(0, 7)}`;
    if (rel.endsWith(DVC_SUFFIX)) {
      for (const out of parseDvcFile(display, body).outs) {
        if (out.md5 === undefined || !out.cache || !pushable(out.extra)) continue;
        found.push({
          md5: out.md5,
          legacy: out.hash === undefined,
          where: `${out.path} (${rel}, ${c.label})`,
        });
      }
      continue;
    }
    if (path.posix.basename(rel) !== LOCK) continue;
    const yamlRel = path.posix.join(path.posix.dirname(rel), DVC_YAML);
    const yamlText = text(yamlRel);
    if (yamlText === undefined) continue; // a lock without its dvc.yaml names no stage
    // Output flags (`cache`, `push`) come from the commit's own dvc.yaml.
    const pipeline = parsePipeline(path.join(root, yamlRel), yamlText, { root });
    const outsByStage = new Map<string, Map<string, StageOut>>(
      pipeline.stages.map((s) => [s.name, new Map(s.outs.map((o) => [o.path, o]))]),
    );
    for (const [stage, entry] of parseLockFile(display, body)) {
      const outs = outsByStage.get(stage);
      for (const item of entry.outs) {
        const declared = outs?.get(item.path);
        const md5 = item.md5 === undefined ? undefined : parseMd5(item.md5);
        if (declared === undefined || !declared.cache || !declared.push || md5 === undefined)
          continue;
        found.push({
          md5,
          legacy: item.hash === undefined,
          where: `${item.path} (${rel} stage '${stage}', ${c.label})`,
        });
      }
    }
  }
  return found;
}

/** Every cached object the commits refer to (duplicates left for the transfer to fold). */
export async function referencedObjects(
  root: string,
  commits: readonly CommitToRead[],
): Promise<ObjectRef[]> {
  const all: ObjectRef[] = [];
  for (const c of commits) all.push(...(await objectsOf(root, c)));
  return all;
}
