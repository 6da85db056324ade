/**
 * `unpack`: a stored ModelKit written into a directory, refusing anything that could escape it.
 * Each layer is streamed once — its blob digest, its diffId and every tar header checked on
 * the way — into hidden temp files that are renamed into place only when the whole layer has
 * verified, so an interrupted or failed unpack never leaves a partial file under its final name.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { CairnError, DigestMismatchError, errnoCode } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { alignedRing, PositionalWriter } from '../core/direct-io.js';
import { tempSibling, writeFileAtomic } from '../core/fs.js';
import { Sha256Counter, type Sha256Digest } from '../oci/digest.js';
import type { LocalStore } from '../oci/layout.js';
import type { Descriptor, ImageManifest } from '../oci/manifest.js';
import {
  ANNOTATION_FILEPATH,
  ANNOTATION_SUBTYPE,
  parseLayerType,
  type LayerType,
} from '../oci/media-types.js';
import { isModelKitReference } from '../oci/reference.js';
import { stripLayerInfo, type Kitfile, type LayerInfo } from './kitfile.js';
import { kitfileToYaml } from './kitfile-yaml.js';
import { cleanPath } from './kitfile-validate.js';
import { makeDecompressor } from './layer-sink.js';
import { ByteReader, UnsafeArchiveError, readTar } from './tar-reader.js';
import { selected, type FilterType, type UnpackFilter } from './unpack-filter.js';

export interface UnpackOptions {
  store: LocalStore;
  manifest: ImageManifest;
  digest: Sha256Digest;
  kitfile: Kitfile;
  /** true when the Kitfile was synthesised from ModelPack annotations (no layer info expected) */
  synthesised: boolean;
  dir: string;
  filters: readonly UnpackFilter[];
  overwrite: boolean;
  ignoreExisting: boolean;
  sink: EventSink;
  /** largest decompressed/compressed ratio accepted beyond 256 MiB (gzip-bomb guard) */
  maxRatio?: number;
  /** decompressed bytes always allowed before the ratio applies (default 256 MiB) */
  minBombBytes?: number;
  /** reads a parent ModelKit for `model.path` references (model layers only) */
  resolveParent?: (
    reference: string,
  ) => Promise<
    Omit<UnpackOptions, 'dir' | 'filters' | 'overwrite' | 'ignoreExisting' | 'sink' | 'store'>
  >;
}

export interface UnpackedLayer {
  type: FilterType;
  path: string;
  digest: Sha256Digest;
  files: number;
  /** bytes written */
  bytes: number;
  skippedExisting: number;
}

export interface UnpackResult {
  dir: string;
  kitfile: 'written' | 'unchanged' | 'skipped' | 'not-selected';
  layers: UnpackedLayer[];
}

interface Paired {
  layer: Descriptor;
  type: LayerType;
  section: FilterType;
  entry: LayerInfo & { name?: string; path?: string };
}

/** Pairs layers with Kitfile entries by a running index per section (as current kit does). */
export function pairLayers(m: ImageManifest, k: Kitfile, digest: Sha256Digest): Paired[] {
  const idx = { part: 0, code: 0, prompt: 0, dataset: 0, docs: 0, mcp: 0 };
  let modelUsed = false;
  const localDatasets = (k.datasets ?? []).filter((d) => d.remotePath === undefined);
  return (m.layers ?? []).map((layer, i) => {
    const type = parseLayerType(layer.mediaType);
    if (type === undefined) {
      throw new CairnError(
        'bad-layer',
        `manifest ${digest} layer ${i} has an unknown media type ${layer.mediaType}`,
        {
          hint: 'This is not a ModelKit layer Cairn can read.',
        },
      );
    }
    let entry: Paired['entry'] | undefined;
    let section: FilterType;
    switch (type.base) {
      case 'model':
        section = 'model';
        if (!modelUsed && k.model !== undefined) {
          entry = k.model;
          modelUsed = true;
        } else entry = k.model?.parts?.[idx.part++];
        break;
      case 'modelpart':
        section = 'model';
        entry = k.model?.parts?.[idx.part++];
        break;
      case 'code':
        if (layer.annotations?.[ANNOTATION_SUBTYPE] === 'prompt') {
          section = 'prompts';
          entry = k.prompts?.[idx.prompt++];
        } else {
          section = 'code';
          entry = k.code?.[idx.code++];
        }
        break;
      case 'dataset':
        section = 'datasets';
        entry = localDatasets[idx.dataset++];
        break;
      case 'docs':
        section = 'docs';
        entry = k.docs?.[idx.docs++];
        break;
      case 'mcpb':
        section = 'mcpservers';
        entry = k.mcpServers?.[idx.mcp++];
        break;
    }
    if (entry === undefined) {
      throw new CairnError(
        'bad-layer',
        `manifest ${digest} layer ${i} (${layer.digest}) has no matching Kitfile entry`,
        {
          hint: 'The config and the manifest disagree; the ModelKit is malformed.',
        },
      );
    }
    if (entry.digest !== undefined && entry.digest !== layer.digest) {
      throw new DigestMismatchError(
        `layer ${i} of ${digest}: digest in config and manifest do not match`,
        entry.digest,
        layer.digest,
      );
    }
    return { layer, type, section, entry };
  });
}

const MIN_BOMB_BYTES = 256 * 1024 * 1024;

export async function unpack(o: UnpackOptions): Promise<UnpackResult> {
  const dir = path.resolve(o.dir);
  await fsp.mkdir(dir, { recursive: true });
  const realDir = await fsp.realpath(dir);
  const pairs = pairLayers(o.manifest, o.kitfile, o.digest);
  const result: UnpackResult = { dir, kitfile: 'not-selected', layers: [] };

  // Decide about the Kitfile first, so a conflict fails before anything is extracted.
  const kitfileText = kitfileToYaml(stripLayerInfo(o.kitfile));
  const kitfilePath = path.join(realDir, 'Kitfile');
  let writeKitfile = false;
  if (selected(o.filters, 'kitfile', undefined)) {
    const existing = await fsp.readFile(kitfilePath, 'utf8').catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    });
    if (existing === undefined || o.overwrite) writeKitfile = existing !== kitfileText;
    else if (existing === kitfileText) result.kitfile = 'unchanged';
    else if (o.ignoreExisting) result.kitfile = 'skipped';
    else {
      throw new CairnError('exists', `${kitfilePath} already exists with different content`, {
        hint: 'Pass --overwrite to replace it or --ignore-existing to keep it.',
      });
    }
    if (existing === kitfileText) result.kitfile = 'unchanged';
  }

  // A model from a referenced ModelKit (chaining): its model layers only, when the model is asked for.
  const modelRef = o.kitfile.model?.path;
  if (
    modelRef !== undefined &&
    isModelKitReference(modelRef) &&
    o.resolveParent !== undefined &&
    selected(o.filters, 'model', o.kitfile.model)
  ) {
    const parent = await o.resolveParent(modelRef);
    const sub = await unpack({
      ...o,
      ...parent,
      filters: [{ types: new Set(['model']), ids: [] }],
      dir: realDir,
      resolveParent: o.resolveParent,
    });
    result.layers.push(...sub.layers);
  }

  for (const p of pairs) {
    if (!selected(o.filters, p.section, p.entry)) continue;
    const rel = p.entry.path ?? p.layer.annotations?.[ANNOTATION_FILEPATH];
    if (rel === undefined) {
      throw new CairnError('bad-layer', `layer ${p.layer.digest} has no path`, {
        hint: 'The ModelKit is malformed.',
      });
    }
    const legacy = !o.synthesised && p.entry.digest === undefined && p.entry.diffId === undefined;
    result.layers.push(await unpackLayer(o, realDir, p, rel, legacy));
  }
  if (writeKitfile) {
    await writeFileAtomic(kitfilePath, kitfileText);
    result.kitfile = 'written';
  }
  return result;
}

interface Staged {
  tmp: string;
  final: string;
  mode: number;
}

/** A safe, context-relative name from a tar entry, or an error. */
function sanitise(name: string, where: string): string {
  const bad = (why: string): never => {
    throw new UnsafeArchiveError(
      'tar-unsafe-path',
      `${where}: entry ${JSON.stringify(name)} ${why}`,
      {
        hint: 'This ModelKit tries to write outside the target directory; do not trust it.',
      },
    );
  };
  if (name.includes('\0')) bad('contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.startsWith('\\'))
    bad('is an absolute path');
  const parts = name.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) bad('contains ..');
  if (parts.length === 0) bad('is empty');
  return parts.join('/');
}

async function unpackLayer(
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

/** Refuses a symlink (or non-directory) anywhere between `dir` and `target`. */
async function assertNoSymlinkBetween(dir: string, target: string, where: string): Promise<void> {
  const rel = path.relative(dir, target);
  if (rel === '') return;
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UnsafeArchiveError('tar-unsafe-path', `${where}: ${target} is outside ${dir}`);
  }
  let cur = dir;
  for (const part of rel.split(path.sep)) {
    cur = path.join(cur, part);
    const st = await fsp.lstat(cur);
    if (!st.isDirectory()) {
      throw new UnsafeArchiveError(
        'tar-unsafe-path',
        `${where}: ${cur} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; refusing to write through it`,
        {
          hint: 'Unpack into an empty directory, or remove the link.',
        },
      );
    }
  }
}

/** mkdir -p for `target` inside `dir`, checking each component is a real directory. */
async function ensureParents(
  dir: string,
  target: string,
  verified: Set<string>,
  where: string,
): Promise<void> {
  if (verified.has(target)) return;
  const rel = path.relative(dir, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UnsafeArchiveError('tar-unsafe-path', `${where}: ${target} is outside ${dir}`);
  }
  let cur = dir;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    cur = path.join(cur, part);
    if (verified.has(cur)) continue;
    let st: Stats | undefined;
    try {
      st = await fsp.lstat(cur);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    if (st === undefined) {
      await fsp.mkdir(cur);
    } else if (!st.isDirectory()) {
      throw new UnsafeArchiveError(
        'tar-unsafe-path',
        `${where}: ${cur} is ${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}; refusing to write through it`,
        {
          hint: 'Unpack into an empty directory, or use a different --dir.',
        },
      );
    }
    verified.add(cur);
  }
}

async function stageFile(
  final: string,
  data: AsyncIterable<Buffer>,
  o: UnpackOptions,
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
    size = await writeChunks(fh, tmp, data);
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
): Promise<number> {
  const writer = new PositionalWriter(fh, file, { maxInflight: 4 });
  try {
    for await (const chunk of data) await writer.write(chunk);
  } catch (error) {
    await writer.close().catch(() => undefined);
    throw error;
  }
  await writer.close();
  return writer.position;
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
