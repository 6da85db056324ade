/**
 * Staging for unpack: each file is written to a hidden temp sibling of its final name (up to
 * four chunks in flight, large aligned ones past the page cache), and renamed into place only
 * once its whole layer has verified.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { PositionalWriter } from '../core/direct-io.js';
import { CairnError, errnoCode } from '../core/errors.js';
import { tempSibling } from '../core/fs.js';
import type { UnpackOptions } from './unpack.js';

/** A file written under a temp name, to be renamed to `final` with `mode`. */
export interface Staged {
  tmp: string;
  final: string;
  mode: number;
}

export async function stageFile(
  final: string,
  data: AsyncIterable<Buffer>,
  o: Pick<UnpackOptions, 'ignoreExisting' | 'overwrite' | 'directIo'>,
  where: string,
  mode: number,
): Promise<(Staged & { size: number }) | 'skipped'> {
  let existing: Stats | undefined;
  try {
    existing = await fsp.lstat(final);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  if (existing !== undefined) {
    if (existing.isDirectory()) {
      throw new CairnError('exists', `${where}: ${final} exists and is a directory`);
    }
    if (o.ignoreExisting) {
      for await (const _ of data) {
        // consumed so the digests still cover it
      }
      return 'skipped';
    }
    if (!o.overwrite) {
      throw new CairnError('exists', `${final} already exists`, {
        hint: 'Pass --overwrite to replace files or --ignore-existing to keep them.',
      });
    }
  }
  const tmp = tempSibling(final);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  let size: number;
  try {
    size = await writeChunks(fh, tmp, data, o.directIo);
  } catch (error) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await fh.close();
  return { tmp, final, mode: mode & 0o777, size };
}

/**
 * Writes the chunks, up to four at once at explicit offsets; returns the bytes written.
 * Chunks of an uncompressed layer sit in the aligned ring at sector-aligned offsets, so they
 * go to the disk directly (see direct-io.ts); a decompressor's output goes through the page
 * cache.
 */
async function writeChunks(
  fh: FileHandle,
  file: string,
  data: AsyncIterable<Buffer>,
  direct: boolean,
): Promise<number> {
  const writer = new PositionalWriter(fh, file, { maxInflight: 4, direct });
  try {
    for await (const chunk of data) await writer.write(chunk);
  } catch (error) {
    await writer.close().catch(() => undefined);
    throw error;
  }
  await writer.close();
  return writer.position;
}
