/**
 * One layer of an unpack, streamed once: blob digest, decompression under a bomb guard, diffId
 * and every tar header checked on the way, files staged and renamed into place only when the
 * whole layer has verified.
 */
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { alignedRing } from '../core/direct-io.js';
import { CairnError, DigestMismatchError } from '../core/errors.js';
import { Sha256Counter } from '../oci/digest.js';
import { cleanPath } from './kitfile-validate.js';
import type { Paired } from './layer-pairing.js';
import { makeDecompressor } from './layer-sink.js';
import { ByteReader, UnsafeArchiveError, readTar } from './tar-reader.js';
import type { UnpackedLayer, UnpackOptions } from './unpack.js';
import { assertNoSymlinkBetween, ensureParents, sanitise } from './unpack-paths.js';
import { stageFile, type Staged } from './unpack-staging.js';

const MIN_BOMB_BYTES = 256 * 1024 * 1024;

export async function unpackLayer(
  o: UnpackOptions,
  dir: string,
  p: Paired,
  relPath: string,
  legacy: boolean,
): Promise<UnpackedLayer> {
  const layerPath = cleanPath(relPath);
  const where = `layer ${p.layer.digest} (${layerPath})`;
  const sanePath = layerPath === '.' ? '.' : sanitise(layerPath, where);
  const out: UnpackedLayer = {
    type: p.section,
    path: layerPath,
    digest: p.layer.digest,
    files: 0,
    bytes: 0,
    skippedExisting: 0,
  };
  // Legacy (pre-0.5) layers hold the contents of the path, relative to its parent directory.
  const root = legacy ? path.join(dir, path.posix.dirname(sanePath)) : dir;

  const free = await freeBytes(dir);
  if (p.type.compression === 'none' && p.layer.size > free) {
    throw new CairnError(
      'no-space',
      `${where} needs ${p.layer.size} bytes but ${dir} has ${free} free`,
    );
  }
  const maxRatio = o.maxRatio ?? 1000;
  const limit =
    p.type.compression === 'none'
      ? p.layer.size
      : Math.min(free, Math.max(o.minBombBytes ?? MIN_BOMB_BYTES, p.layer.size * maxRatio));
  const diff = new Sha256Counter();
  // Uncompressed, the diffId is the blob digest, which the blob stream already verifies.
  const hashDiff = p.type.compression !== 'none';
  if (!hashDiff && p.entry.diffId !== undefined && p.entry.diffId !== p.layer.digest) {
    throw new DigestMismatchError(
      `${where} diffId of an uncompressed layer`,
      p.layer.digest,
      p.entry.diffId,
      {
        hint: 'The layer does not match its config; the ModelKit is corrupt or forged.',
      },
    );
  }
  let expanded = 0;
  let source: AsyncIterable<Buffer>;
  let blob: Readable | undefined;
  if (p.type.compression === 'none') {
    // Chunks cycle through a ring (the writers hold at most 4 chunks, the reader 2 more).
    source = o.store.readChunks(p.layer.digest, p.layer.size, ringBuffers());
  } else {
    blob = Readable.from(o.store.readChunks(p.layer.digest, p.layer.size));
    const dec = await makeDecompressor(p.type.compression);
    blob.on('error', (error) => dec.destroy(error));
    source = blob.pipe(dec);
  }
  const measured = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      if (hashDiff) diff.update(chunk);
      expanded += chunk.length;
      if (expanded > limit) {
        blob?.destroy();
        throw new UnsafeArchiveError(
          'layer-too-large',
          `${where} expands beyond ${limit} bytes (${p.layer.size} compressed): refusing a possible decompression bomb`,
          {
            hint:
              free <= limit
                ? `Free space in ${dir} is the limit; make room first.`
                : 'Raise the limit with CAIRN_UNPACK_MAX_RATIO if the layer is genuine.',
          },
        );
      }
      yield chunk;
    }
  };
  const staged: Staged[] = [];
  const verifiedDirs = new Set<string>([root]);
  const reader = new ByteReader(measured());
  try {
    await fsp.mkdir(root, { recursive: true });
    await assertNoSymlinkBetween(dir, root, where);
    if (p.type.format === 'raw') {
      const final = path.join(dir, sanePath);
      await ensureParents(dir, path.dirname(final), verifiedDirs, where);
      const r = await stageFile(final, reader.chunks(Number.MAX_SAFE_INTEGER), o, where, 0o644);
      if (r === 'skipped') out.skippedExisting++;
      else {
        staged.push(r);
        out.files++;
        out.bytes += r.size;
      }
      await reader.drain();
    } else {
      const names = new Set<string>();
      const fileNames = new Set<string>();
      for await (const e of readTar(reader, where)) {
        const name = sanitise(e.name, where);
        if (names.has(name)) {
          throw new UnsafeArchiveError(
            'tar-duplicate',
            `${where}: entry ${JSON.stringify(name)} appears twice`,
            {
              hint: 'This ModelKit was not written by kit or Cairn; do not trust it.',
            },
          );
        }
        names.add(name);
        const segments = name.split('/');
        for (let i = 1; i < segments.length; i++) {
          const parent = segments.slice(0, i).join('/');
          if (fileNames.has(parent)) {
            throw new UnsafeArchiveError(
              'tar-unsafe-path',
              `${where}: entry ${JSON.stringify(name)} lies under the earlier file ${JSON.stringify(parent)}`,
              {
                hint: 'This ModelKit was not written by kit or Cairn; do not trust it.',
              },
            );
          }
        }
        const final = path.join(root, name);
        if (e.type === 'dir') {
          await ensureParents(dir, final, verifiedDirs, where);
          continue;
        }
        fileNames.add(name);
        await ensureParents(dir, path.dirname(final), verifiedDirs, where);
        const r = await stageFile(final, e.data(), o, where, e.mode);
        if (r === 'skipped') {
          out.skippedExisting++;
          continue;
        }
        staged.push(r);
        out.files++;
        out.bytes += r.size;
        o.sink({
          type: 'progress',
          phase: `unpack ${layerPath}`,
          done: out.files,
          bytes: expanded,
        });
      }
      await reader.drain(); // lets the digest check at the end of the blob run
    }
    const diffId = hashDiff ? diff.digest() : p.layer.digest;
    if (p.entry.diffId !== undefined && diffId !== p.entry.diffId) {
      throw new DigestMismatchError(
        `${where} uncompressed content (diffId)`,
        p.entry.diffId,
        diffId,
        {
          hint: 'The layer does not match its config; the ModelKit is corrupt or forged.',
        },
      );
    }
    for (const s of staged) {
      await fsp.chmod(s.tmp, s.mode);
      await fsp.rename(s.tmp, s.final);
    }
    staged.length = 0;
    return out;
  } finally {
    await Promise.all(staged.map((s) => fsp.rm(s.tmp, { force: true })));
    await reader.close().catch(() => undefined); // a walk stopped early still closes the blob
    blob?.destroy();
  }
}

async function freeBytes(dir: string): Promise<number> {
  try {
    const s = await fsp.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

/**
 * 16 MiB buffers for one layer's uncompressed chunks: 4 in writes, 1 being consumed, 1 held back
 * until the blob digest is checked, 1 being read. 16 MiB direct writes run at close to twice
 * the throughput of 4 MiB ones on the virtio disks we measured (docs/benchmarks.md).
 */
function ringBuffers(): Buffer[] {
  return alignedRing(7, 16 * 1024 * 1024);
}
