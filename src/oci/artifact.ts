/**
 * Which OCI artifacts are ModelKits (KitOps or CNCF ModelPack), told from media types alone:
 * the registry client moves only these, and the ModelKit reader starts from the same answer.
 */
import { CairnError } from '../core/errors.js';
import type { ImageManifest } from './manifest.js';
import {
  MODELKIT_ARTIFACT_TYPE,
  MODELKIT_CONFIG_TYPE,
  MODELPACK_ARTIFACT_TYPE,
  MODELPACK_CONFIG_TYPE,
} from './media-types.js';

export type ModelKitFormat = 'kit' | 'modelpack';

export class NotAModelKitError extends CairnError {
  override readonly name = 'NotAModelKitError';
}

export function modelKitFormat(m: ImageManifest): ModelKitFormat | undefined {
  if (m.artifactType === MODELKIT_ARTIFACT_TYPE || m.config.mediaType === MODELKIT_CONFIG_TYPE)
    return 'kit';
  if (m.artifactType === MODELPACK_ARTIFACT_TYPE || m.config.mediaType === MODELPACK_CONFIG_TYPE)
    return 'modelpack';
  return undefined;
}
