/**
 * `unpack`: a stored ModelKit written into a directory, refusing anything that could escape it.
 * Each layer is streamed once — its blob digest, its diffId and every tar header checked on
 * the way — into hidden temp files that are renamed into place only when the whole layer has
 * verified, so an interrupted or failed unpack never leaves a partial file under its final name.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { writeFileAtomic } from '../core/fs.js';
import type { Sha256Digest } from '../oci/digest.js';
import type { LocalStore } from '../oci/layout.js';
import type { ImageManifest } from '../oci/manifest.js';
import { ANNOTATION_FILEPATH } from '../oci/media-types.js';
import { isModelKitReference } from '../oci/reference.js';
import { stripLayerInfo, type Kitfile } from './kitfile.js';
import { kitfileToYaml } from './kitfile-yaml.js';
import { pairLayers } from './layer-pairing.js';
import { selected, type FilterType, type UnpackFilter } from './unpack-filter.js';
import { unpackLayer } from './unpack-layer.js';

// remote-unpack pairs layers before fetching the blobs it needs.
export { pairLayers } from './layer-pairing.js';

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
  /** large aligned chunks may be written past the page cache (see directIoAllowed) */
  directIo: boolean;
  /** reads a parent ModelKit for `model.path` references (model layers only) */
  resolveParent?: (
    reference: string,
  ) => Promise<
    Omit<
      UnpackOptions,
      'dir' | 'filters' | 'overwrite' | 'ignoreExisting' | 'sink' | 'store' | 'directIo'
    >
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
