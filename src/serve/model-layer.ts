/**
 * The fast path for serving a ModelKit from the local store: the model layer's blob read whole
 * (its digest checked by the store) and the `.onnx` file taken out of the tar in memory, with no
 * temp files. It covers what `cairn pack` writes by default — an uncompressed tar or raw model
 * layer — and declines the rest (compressed or legacy layers, chained models), which take the
 * general `cairn unpack` path.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { DigestMismatchError } from '../core/errors.js';
import type { LocalStore } from '../oci/layout.js';
import type { ImageManifest } from '../oci/manifest.js';
import { parseLayerType } from '../oci/media-types.js';
import { isModelKitReference } from '../oci/reference.js';
import type { Kitfile } from '../modelkit/kitfile.js';
import { cleanPath } from '../modelkit/kitfile-validate.js';
import { ByteReader, readTar } from '../modelkit/tar-reader.js';

export interface ModelLayerFile {
  /** the file's path inside the ModelKit */
  name: string;
  bytes: Uint8Array;
  /** the file's own digest when it is known without hashing (a raw layer: the layer's) */
  digest?: string;
}

/**
 * The `.onnx` file `model.path` names (or the single one under it), or undefined when this
 * layer needs the general unpack.
 */
export async function readModelLayer(
  store: LocalStore,
  manifest: ImageManifest,
  kitfile: Kitfile,
  reading: () => void = () => undefined,
): Promise<ModelLayerFile | undefined> {
  const model = kitfile.model;
  if (model?.path === undefined || isModelKitReference(model.path)) return undefined;
  const layer = (manifest.layers ?? []).find((l) => parseLayerType(l.mediaType)?.base === 'model');
  const type = layer === undefined ? undefined : parseLayerType(layer.mediaType);
  // Legacy layers (no digest in the Kitfile) are laid out relative to the path's parent.
  if (layer === undefined || type?.compression !== 'none' || model.digest === undefined)
    return undefined;
  if (model.diffId !== undefined && model.diffId !== layer.digest) {
    throw new DigestMismatchError(`the model layer's diffId`, layer.digest, model.diffId, {
      hint: 'The layer does not match its config; the ModelKit is corrupt or forged.',
    });
  }
  // Verified before anything reads it (a DigestMismatchError otherwise).
  reading();
  const blob = await store.readBlobVerified(layer.digest, layer.size);
  const wanted = cleanPath(model.path);
  if (type.format === 'raw')
    return wanted.endsWith('.onnx')
      ? { name: wanted, bytes: blob, digest: layer.digest }
      : undefined;
  const found: ModelLayerFile[] = [];
  await extract(blob, `layer ${layer.digest}`, wanted, found);
  const [only] = found;
  return found.length === 1 && only !== undefined ? only : undefined;
}

/** The `.onnx` files under `wanted` in the tar `blob`, pushed onto `found`. */
async function extract(
  blob: Buffer,
  where: string,
  wanted: string,
  found: ModelLayerFile[],
): Promise<void> {
  for await (const entry of readTar(new ByteReader(Readable.from([blob])), where)) {
    const name = cleanPath(entry.name);
    const inside = name === wanted || name.startsWith(`${wanted}/`) || wanted === '.';
    if (entry.type !== 'file' || !inside || path.posix.extname(name) !== '.onnx') {
      await entry.skip();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry.data()) chunks.push(chunk);
    found.push({
      name,
      bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
    });
  }
}
