/** OCI and ModelKit media types (KitOps §2.1, §2.3, §2.7), and parsing of layer types. */

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MODELKIT_ARTIFACT_TYPE = 'application/vnd.kitops.modelkit.manifest.v1+json';
export const MODELKIT_CONFIG_TYPE = 'application/vnd.kitops.modelkit.config.v1+json';
export const MODELPACK_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODELPACK_CONFIG_TYPE = 'application/vnd.cncf.model.config.v1+json';

export const ANNOTATION_CLI_VERSION = 'ml.kitops.modelkit.cli-version';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';
export const ANNOTATION_KITFILE = 'ml.kitops.modelkit.kitfile';
export const ANNOTATION_FILEPATH = 'org.cncf.model.filepath';
export const ANNOTATION_FILE_METADATA = 'org.cncf.model.file.metadata+json';
export const ANNOTATION_SUBTYPE = 'ml.kitops.modelkit.layer-subtype';

/** What a layer holds, in kit's terms. */
export type LayerBase = 'model' | 'modelpart' | 'dataset' | 'code' | 'docs' | 'mcpb';
export type LayerFormat = 'tar' | 'raw';
export type LayerCompression = 'none' | 'gzip' | 'zstd';

export interface LayerType {
  base: LayerBase;
  format: LayerFormat;
  compression: LayerCompression;
  /** ModelPack (CNCF) naming rather than kit's */
  modelPack: boolean;
}

const KIT = /^application\/vnd\.kitops\.modelkit\.(\w+)\.v1\.(\w+)(?:\+(\w+))?$/;
const CNCF = /^application\/vnd\.cncf\.model\.([\w.]+)\.v1\.(\w+)(?:\+(\w+))?$/;
const KIT_BASES = new Set(['model', 'modelpart', 'dataset', 'code', 'docs', 'mcpb']);
const CNCF_BASES: Record<string, LayerBase> = {
  weight: 'model',
  'weight.config': 'modelpart',
  dataset: 'dataset',
  code: 'code',
  doc: 'docs',
};

/** Parses a layer media type; undefined when it is not a ModelKit or ModelPack layer. */
export function parseLayerType(mediaType: string): LayerType | undefined {
  const kit = KIT.exec(mediaType);
  const cncf = kit === null ? CNCF.exec(mediaType) : null;
  const m = kit ?? cncf;
  if (m === null) return undefined;
  const base =
    kit !== null
      ? KIT_BASES.has(m[1] ?? '')
        ? (m[1] as LayerBase)
        : undefined
      : CNCF_BASES[m[1] ?? ''];
  const format = m[2];
  const comp = m[3] ?? 'none';
  if (base === undefined || (format !== 'tar' && format !== 'raw')) return undefined;
  if (comp !== 'none' && comp !== 'gzip' && comp !== 'zstd') return undefined;
  return { base, format, compression: comp, modelPack: cncf !== null };
}

export function formatLayerType(t: Omit<LayerType, 'modelPack'>): string {
  const suffix = t.compression === 'none' ? '' : `+${t.compression}`;
  return `application/vnd.kitops.modelkit.${t.base}.v1.${t.format}${suffix}`;
}
