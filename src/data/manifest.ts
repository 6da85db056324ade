/**
 * `.dir` manifests: the JSON list DVC stores for a directory, `[{"md5": …, "relpath": …}]`
 * sorted by relpath, serialised as Python's `json.dumps(sort_keys=True)`. Its MD5 plus `.dir`
 * is the directory's hash.
 */
import { createHash } from 'node:crypto';
import { dirMd5, parseMd5, type Md5Hex } from '../core/digest.js';
import { CairnError } from '../core/errors.js';
import { compareCodePoints, pythonJsonString } from '../core/python-json.js';

export interface ManifestEntry {
  /** POSIX path inside the directory */
  relpath: string;
  md5: string;
}

/** Sorts in place by relpath, as Python sorts str (by code point). */
export function sortEntries(entries: ManifestEntry[]): ManifestEntry[] {
  const needsCodePointOrder = entries.some((e) => /[\ud800-\udfff]/.test(e.relpath));
  if (needsCodePointOrder) return entries.sort((a, b) => compareCodePoints(a.relpath, b.relpath));
  return entries.sort((a, b) => (a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0));
}

/** The manifest bytes for entries already sorted by {@link sortEntries}. */
export function serializeManifest(sorted: readonly ManifestEntry[]): string {
  return buildManifest(sorted).bytes.toString('utf8');
}

export interface BuiltManifest {
  md5: Md5Hex;
  bytes: Buffer;
}

/**
 * Serialises and hashes in 64 KiB pieces: a million-file manifest is ~90 MB, and building it
 * as a million small strings first would cost several times that.
 */
export function buildManifest(sorted: readonly ManifestEntry[]): BuiltManifest {
  const hash = createHash('md5');
  const chunks: Buffer[] = [];
  let text = '[';
  const flush = (): void => {
    const chunk = Buffer.from(text, 'utf8');
    hash.update(chunk);
    chunks.push(chunk);
    text = '';
  };
  sorted.forEach((e, i) => {
    text += `${i === 0 ? '' : ', '}{"md5": ${pythonJsonString(e.md5)}, "relpath": ${pythonJsonString(e.relpath)}}`;
    if (text.length >= 65536) flush();
  });
  text += ']';
  flush();
  return { md5: dirMd5(hash.digest('hex')), bytes: Buffer.concat(chunks) };
}

/** Reads a manifest from the cache, checking its shape; `where` names it in errors. */
export function parseManifest(bytes: Buffer, where: string): ManifestEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CairnError('manifest-corrupt', `${where} is not valid JSON`, {
      hint: 'Run `cairn fsck` to find and set aside corrupt cache objects, then `cairn add` the directory again.',
      cause: error,
    });
  }
  if (!Array.isArray(data)) {
    throw new CairnError('manifest-corrupt', `${where} is not a list of entries`, {
      hint: 'Run `cairn fsck`.',
    });
  }
  return data.map((item: unknown, i) => {
    const entry = item as { md5?: unknown; relpath?: unknown } | null;
    const md5 = typeof entry?.md5 === 'string' ? parseMd5(entry.md5) : undefined;
    if (md5 === undefined || typeof entry?.relpath !== 'string' || !safeRelpath(entry.relpath)) {
      throw new CairnError(
        'manifest-corrupt',
        `${where}: entry ${i} has a malformed md5 or an unsafe relpath`,
        {
          hint: 'Run `cairn fsck`.',
        },
      );
    }
    return { relpath: entry.relpath, md5 };
  });
}

/** A manifest comes from the cache, which may be shared: never let it point outside. */
function safeRelpath(rel: string): boolean {
  if (rel === '' || rel.startsWith('/') || rel.includes('\0') || rel.includes('\\')) return false;
  return rel.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
