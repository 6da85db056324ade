/**
 * Layer pairing: each manifest layer matched with the Kitfile entry it unpacks, by a running
 * index per section (as current kit does), the two digests checked against each other.
 */
import { CairnError, DigestMismatchError } from '../core/errors.js';
import type { Sha256Digest } from '../oci/digest.js';
import type { Descriptor, ImageManifest } from '../oci/manifest.js';
import { ANNOTATION_SUBTYPE, parseLayerType, type LayerType } from '../oci/media-types.js';
import type { Kitfile, LayerInfo } from './kitfile.js';
import type { FilterType } from './unpack-filter.js';

/** A manifest layer and the Kitfile entry it unpacks. */
export interface Paired {
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
