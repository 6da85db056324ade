/**
 * Reading a stored ModelKit whatever wrote it (§2.1, §2.7): kit configs of every version,
 * CNCF ModelPack artifacts with the Kitfile in an annotation, or none (synthesised from the
 * layers' file paths).
 */
import { parseSha256, type Sha256Digest } from '../oci/digest.js';
import type { LocalStore } from '../oci/layout.js';
import type { ImageManifest } from '../oci/manifest.js';
import { ANNOTATION_FILEPATH, ANNOTATION_KITFILE, parseLayerType } from '../oci/media-types.js';
import { modelKitFormat, NotAModelKitError, type ModelKitFormat } from '../oci/artifact.js';
import { kitfileFromConfigJson, type Kitfile } from './kitfile.js';

export { modelKitFormat, NotAModelKitError, type ModelKitFormat };

export interface ReadModelKit {
  format: ModelKitFormat;
  /** the Kitfile with layer info; synthesised for a ModelPack without one */
  kitfile: Kitfile | undefined;
  /** true when the Kitfile was generated from layer annotations */
  synthesised: boolean;
}

export async function readModelKit(
  store: LocalStore,
  m: ImageManifest,
  digest: Sha256Digest,
): Promise<ReadModelKit> {
  const format = modelKitFormat(m);
  if (format === undefined) {
    throw new NotAModelKitError(
      'not-a-modelkit',
      `manifest ${digest} is not a ModelKit (config type ${m.config.mediaType})`,
      {
        hint: 'Only KitOps ModelKits and CNCF ModelPack artifacts can be read.',
      },
    );
  }
  const config = await store.readBlob(m.config.digest, m.config.size);
  if (format === 'kit') {
    return {
      format,
      kitfile: kitfileFromConfigJson(config.toString('utf8'), `config ${m.config.digest}`),
      synthesised: false,
    };
  }
  const annotated = m.annotations?.[ANNOTATION_KITFILE];
  if (annotated !== undefined) {
    return {
      format,
      kitfile: kitfileFromConfigJson(
        annotated,
        `manifest ${digest} annotation ${ANNOTATION_KITFILE}`,
      ),
      synthesised: false,
    };
  }
  return {
    format,
    kitfile: synthesiseKitfile(m, config.toString('utf8'), digest),
    synthesised: true,
  };
}

/** A minimal Kitfile from a foreign ModelPack's layers (paths from `org.cncf.model.filepath`). */
export function synthesiseKitfile(
  m: ImageManifest,
  configText: string,
  digest: Sha256Digest,
): Kitfile {
  let diffIds: string[] = [];
  let name: string | undefined;
  try {
    const c = JSON.parse(configText) as {
      modelfs?: { diffIds?: unknown };
      descriptor?: { name?: unknown; title?: unknown };
    };
    if (Array.isArray(c.modelfs?.diffIds))
      diffIds = c.modelfs.diffIds.filter((x): x is string => typeof x === 'string');
    const n = c.descriptor?.name ?? c.descriptor?.title;
    if (typeof n === 'string') name = n;
  } catch {
    // a config we cannot read: layer digests still pair the entries
  }
  const k: Kitfile = { manifestVersion: '1.0.0', package: name === undefined ? {} : { name } };
  (m.layers ?? []).forEach((layer, i) => {
    const t = parseLayerType(layer.mediaType);
    const p = layer.annotations?.[ANNOTATION_FILEPATH];
    if (t === undefined) {
      throw new NotAModelKitError(
        'bad-layer',
        `manifest ${digest} layer ${i} has an unknown media type ${layer.mediaType}`,
      );
    }
    if (p === undefined) {
      throw new NotAModelKitError(
        'bad-layer',
        `manifest ${digest} layer ${i} (${layer.digest}) has no ${ANNOTATION_FILEPATH} annotation`,
        {
          hint: "A ModelPack without a Kitfile must name each layer's path.",
        },
      );
    }
    const diffId =
      parseSha256(diffIds[i] ?? '') ?? (t.compression === 'none' ? layer.digest : undefined);
    const entry: { path: string; digest: Sha256Digest; diffId?: Sha256Digest } = {
      path: p,
      digest: layer.digest,
    };
    if (diffId !== undefined) entry.diffId = diffId;
    switch (t.base) {
      case 'model':
        if (k.model === undefined) k.model = { ...entry };
        else (k.model.parts ??= []).push({ ...entry });
        break;
      case 'modelpart':
        (k.model ??= {}).parts ??= [];
        k.model.parts.push({ ...entry });
        break;
      case 'dataset':
        (k.datasets ??= []).push({ ...entry });
        break;
      case 'code':
      case 'mcpb':
        (k.code ??= []).push({ ...entry });
        break;
      case 'docs':
        (k.docs ??= []).push({ ...entry });
        break;
    }
  });
  return k;
}
