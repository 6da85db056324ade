/**
 * Where blobs came from and went to: `cairn-blob-origins.json` in the store maps a digest to
 * the registry repositories known to hold it, so a push can ask the registry to mount the blob
 * from one of them instead of sending its bytes again. A hint only: a stale entry costs one
 * POST that the registry answers with an ordinary upload session.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../core/fs.js';
import type { Sha256Digest } from '../digest.js';
import type { LocalStore } from '../layout.js';

const FILE = 'cairn-blob-origins.json';
/** repositories remembered per blob (newest first) */
const KEEP = 8;

type Origins = Record<string, string[]>;

async function read(store: LocalStore): Promise<Origins> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(store.root, FILE), 'utf8')) as unknown;
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Origins) : {};
  } catch {
    return {};
  }
}

/** Repositories (`registry/repository`) on `registry`, other than `except`, that hold `digest`. */
export async function mountCandidates(
  store: LocalStore,
  registry: string,
  except: string,
): Promise<(digest: Sha256Digest) => string[]> {
  const all = await read(store);
  return (digest) =>
    (Array.isArray(all[digest]) ? all[digest] : [])
      .filter(
        (r) =>
          typeof r === 'string' && r.startsWith(`${registry}/`) && r !== `${registry}/${except}`,
      )
      .map((r) => r.slice(registry.length + 1));
}

/** Records that `registry/repository` holds each digest. */
export async function recordOrigins(
  store: LocalStore,
  repository: string,
  digests: readonly Sha256Digest[],
): Promise<void> {
  const all = await read(store);
  if (digests.every((d) => all[d]?.[0] === repository)) return;
  for (const d of digests) {
    const list = (Array.isArray(all[d]) ? all[d] : []).filter((r) => r !== repository);
    all[d] = [repository, ...list].slice(0, KEEP);
  }
  await writeFileAtomic(path.join(store.root, FILE), JSON.stringify(all));
}
