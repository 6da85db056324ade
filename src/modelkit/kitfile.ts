/**
 * The Kitfile model (KitOps §1) and its two serialisations that must match kit: the config blob
 * (Go's compact JSON, struct order, omitempty) and the reading of a config back into a Kitfile.
 */
import { CairnError } from '../core/errors.js';
import { parseSha256, type Sha256Digest } from '../oci/digest.js';
import { goString, goStruct, optAny, optList, optString, type GoValue } from '../oci/gojson.js';

/** Layer info the config carries for entries that produced a layer; absent in a Kitfile. */
export interface LayerInfo {
  digest?: Sha256Digest;
  diffId?: Sha256Digest;
}

export interface KitPackage {
  name?: string;
  version?: string;
  description?: string;
  license?: string;
  authors?: string[];
}

export interface ModelPart extends LayerInfo {
  name?: string;
  path?: string;
  license?: string;
  type?: string;
}

export interface KitModel extends LayerInfo {
  name?: string;
  /** a local path, or a ModelKit reference (chaining) */
  path?: string;
  license?: string;
  framework?: string;
  format?: string;
  version?: string;
  description?: string;
  parts?: ModelPart[];
  parameters?: GoValue;
}

export interface CodeEntry extends LayerInfo {
  path?: string;
  description?: string;
  license?: string;
}

export interface DatasetEntry extends LayerInfo {
  name?: string;
  path?: string;
  remotePath?: string;
  remoteHash?: string;
  description?: string;
  license?: string;
  parameters?: GoValue;
}

export interface DocsEntry extends LayerInfo {
  /** emitted even when empty (no omitempty in kit) */
  path: string;
  description?: string;
}

export interface PromptEntry extends LayerInfo {
  name?: string;
  path?: string;
  description?: string;
}

export interface McpServerEntry extends LayerInfo {
  name?: string;
  path?: string;
  description?: string;
}

export interface Kitfile {
  manifestVersion: string;
  package: KitPackage;
  model?: KitModel;
  code?: CodeEntry[];
  datasets?: DatasetEntry[];
  docs?: DocsEntry[];
  prompts?: PromptEntry[];
  mcpServers?: McpServerEntry[];
}

const layerFields = (e: LayerInfo): [string, string | undefined][] => [
  ['digest', optString(e.digest)],
  ['diffId', optString(e.diffId)],
];

const strings = (xs: readonly string[] | undefined): string | undefined => optList(xs, goString);

/** The config blob: Go's json.Marshal of kit's KitFile struct, byte for byte. */
export function kitfileToConfigJson(k: Kitfile): string {
  const pkg = k.package;
  return goStruct([
    ['manifestVersion', goString(k.manifestVersion)],
    [
      'package',
      goStruct([
        ['name', optString(pkg.name)],
        ['version', optString(pkg.version)],
        ['description', optString(pkg.description)],
        ['license', optString(pkg.license)],
        ['authors', strings(pkg.authors)],
      ]),
    ],
    ['model', k.model === undefined ? undefined : modelJson(k.model)],
    [
      'code',
      optList(k.code, (c) =>
        goStruct([
          ['path', optString(c.path)],
          ['description', optString(c.description)],
          ['license', optString(c.license)],
          ...layerFields(c),
        ]),
      ),
    ],
    [
      'datasets',
      optList(k.datasets, (d) =>
        goStruct([
          ['name', optString(d.name)],
          ['path', optString(d.path)],
          ['remotePath', optString(d.remotePath)],
          ['remoteHash', optString(d.remoteHash)],
          ['description', optString(d.description)],
          ['license', optString(d.license)],
          ['parameters', optAny(d.parameters)],
          ...layerFields(d),
        ]),
      ),
    ],
    [
      'docs',
      optList(k.docs, (d) =>
        goStruct([
          ['path', goString(d.path)],
          ['description', optString(d.description)],
          ...layerFields(d),
        ]),
      ),
    ],
    ['prompts', optList(k.prompts, namedJson)],
    ['mcpServers', optList(k.mcpServers, namedJson)],
  ]);
}

function modelJson(m: KitModel): string {
  return goStruct([
    ['name', optString(m.name)],
    ['path', optString(m.path)],
    ['license', optString(m.license)],
    ['framework', optString(m.framework)],
    ['format', optString(m.format)],
    ['version', optString(m.version)],
    ['description', optString(m.description)],
    [
      'parts',
      optList(m.parts, (p) =>
        goStruct([
          ['name', optString(p.name)],
          ['path', optString(p.path)],
          ['license', optString(p.license)],
          ['type', optString(p.type)],
          ...layerFields(p),
        ]),
      ),
    ],
    ['parameters', optAny(m.parameters)],
    ...layerFields(m),
  ]);
}

function namedJson(e: PromptEntry | McpServerEntry): string {
  return goStruct([
    ['name', optString(e.name)],
    ['path', optString(e.path)],
    ['description', optString(e.description)],
    ...layerFields(e),
  ]);
}

/** A copy without any layer info (what `kit unpack` writes back as the Kitfile). */
export function stripLayerInfo(k: Kitfile): Kitfile {
  const strip = <T extends LayerInfo>(e: T): T => {
    const { digest: _d, diffId: _i, ...rest } = e;
    return rest as T;
  };
  const out: Kitfile = { manifestVersion: k.manifestVersion, package: { ...k.package } };
  if (k.model !== undefined) {
    const model = strip(k.model);
    if (model.parts !== undefined) model.parts = model.parts.map(strip);
    out.model = model;
  }
  if (k.code !== undefined) out.code = k.code.map(strip);
  if (k.datasets !== undefined) out.datasets = k.datasets.map(strip);
  if (k.docs !== undefined) out.docs = k.docs.map(strip);
  if (k.prompts !== undefined) out.prompts = k.prompts.map(strip);
  if (k.mcpServers !== undefined) out.mcpServers = k.mcpServers.map(strip);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading a config blob (JSON written by any kit version, or by us) back into a Kitfile.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class ConfigShapeError extends CairnError {
  override readonly name = 'ConfigShapeError';
}

/** Parses a ModelKit config blob; lenient about unknown keys (newer kit versions add some). */
export function kitfileFromConfigJson(text: string, where: string): Kitfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigShapeError('config-invalid', `${where}: the config is not JSON`, {
      cause: error,
      hint: 'The blob may be corrupt; re-pull or re-pack the ModelKit.',
    });
  }
  const bad = (what: string): never => {
    throw new ConfigShapeError('config-invalid', `${where}: ${what}`, {
      hint: 'The ModelKit config does not have the Kitfile shape; is this a ModelKit?',
    });
  };
  const obj = (v: unknown, what: string): Record<string, Json> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, Json>)
      : bad(`${what} is not an object`);
  const str = (o: Record<string, Json>, key: string, what: string): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : bad(`${what}.${key} is not a string`);
  };
  const list = (v: Json | undefined, what: string): Json[] | undefined => {
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) ? v : bad(`${what} is not a list`);
  };
  const digest = (o: Record<string, Json>, key: 'digest' | 'diffId', what: string) => {
    const v = str(o, key, what);
    if (v === undefined) return undefined;
    return parseSha256(v) ?? bad(`${what}.${key} is not a sha256 digest: ${v}`);
  };
  const pick = (
    o: Record<string, Json>,
    what: string,
    keys: readonly string[],
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      if (key === 'parameters') {
        const p = o[key];
        if (p !== undefined && p !== null) out[key] = p;
      } else if (key === 'digest' || key === 'diffId') {
        const d = digest(o, key, what);
        if (d !== undefined) out[key] = d;
      } else if (key === 'authors') {
        const a = list(o[key], `${what}.authors`);
        if (a !== undefined)
          out[key] = a.map((x) => (typeof x === 'string' ? x : bad(`${what}.authors`)));
      } else {
        const s = str(o, key, what);
        if (s !== undefined) out[key] = s;
      }
    }
    return out;
  };
  const root = obj(raw, 'the config');
  const k: Kitfile = {
    manifestVersion: str(root, 'manifestVersion', 'config') ?? '',
    package: pick(
      root.package === undefined || root.package === null ? {} : obj(root.package, 'package'),
      'package',
      PACKAGE_KEYS,
    ),
  };
  if (root.model !== undefined && root.model !== null) {
    const m = obj(root.model, 'model');
    const model = pick(m, 'model', [
      ...MODEL_KEYS.filter((key) => key !== 'parts'),
      'digest',
      'diffId',
    ]) as KitModel;
    const parts = list(m.parts, 'model.parts');
    if (parts !== undefined)
      model.parts = parts.map(
        (p, i) =>
          pick(obj(p, `model.parts[${i}]`), `model.parts[${i}]`, [
            ...PART_KEYS,
            'digest',
            'diffId',
          ]) as ModelPart,
      );
    // Rebuild in kit's field order so JSON output (inspect) reads like kit's.
    const ordered: Record<string, unknown> = {};
    for (const key of [...MODEL_KEYS, 'digest', 'diffId'] as const) {
      const v = (model as Record<string, unknown>)[key];
      if (v !== undefined) ordered[key] = v;
    }
    k.model = ordered;
  }
  const section = (key: string, keys: readonly string[]): Record<string, unknown>[] | undefined =>
    list(root[key], key)?.map((e, i) =>
      pick(obj(e, `${key}[${i}]`), `${key}[${i}]`, [...keys, 'digest', 'diffId']),
    );
  const code = section('code', CODE_KEYS) as CodeEntry[] | undefined;
  if (code !== undefined) k.code = code;
  const datasets = section('datasets', DATASET_KEYS) as DatasetEntry[] | undefined;
  if (datasets !== undefined) k.datasets = datasets;
  const docs = section('docs', DOCS_KEYS) as DocsEntry[] | undefined;
  if (docs !== undefined)
    k.docs = docs.map((d) => ({ ...d, path: (d as { path?: string }).path ?? '' }));
  const prompts = section('prompts', NAMED_KEYS) as PromptEntry[] | undefined;
  if (prompts !== undefined) k.prompts = prompts;
  const mcp = section('mcpServers', NAMED_KEYS) as McpServerEntry[] | undefined;
  if (mcp !== undefined) k.mcpServers = mcp;
  return k;
}

/** Keys a Kitfile may use in each section (in kit's declaration order). */
export const PACKAGE_KEYS = ['name', 'version', 'description', 'license', 'authors'] as const;
export const MODEL_KEYS = [
  'name',
  'path',
  'license',
  'framework',
  'format',
  'version',
  'description',
  'parts',
  'parameters',
] as const;
export const PART_KEYS = ['name', 'path', 'license', 'type'] as const;
export const CODE_KEYS = ['path', 'description', 'license'] as const;
export const DATASET_KEYS = [
  'name',
  'path',
  'remotePath',
  'remoteHash',
  'description',
  'license',
  'parameters',
] as const;
export const DOCS_KEYS = ['path', 'description'] as const;
export const NAMED_KEYS = ['name', 'path', 'description'] as const;
export const TOP_KEYS = [
  'manifestVersion',
  'package',
  'model',
  'code',
  'datasets',
  'docs',
  'prompts',
  'mcpServers',
] as const;
