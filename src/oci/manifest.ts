/**
 * OCI descriptors and image manifests: Go-compatible compact JSON (struct order, sorted
 * annotations, no `mediaType` in the manifest, `"layers":null` when empty) and lenient reading.
 */
import { CairnError } from '../core/errors.js';
import { goString, goStruct, optString, byteOrder } from './gojson.js';
import { parseSha256, type Sha256Digest } from './digest.js';

export interface Descriptor {
  mediaType: string;
  digest: Sha256Digest;
  /** bytes */
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  /** null as Go writes a nil slice */
  layers: Descriptor[] | null;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function annotationsJson(a: Record<string, string> | undefined): string | undefined {
  if (a === undefined) return undefined;
  const keys = Object.keys(a).sort(byteOrder);
  if (keys.length === 0) return undefined;
  return `{${keys.map((k) => `${goString(k)}:${goString(a[k] ?? '')}`).join(',')}}`;
}

export function descriptorJson(d: Descriptor): string {
  return goStruct([
    ['mediaType', goString(d.mediaType)],
    ['digest', goString(d.digest)],
    ['size', String(d.size)],
    ['annotations', annotationsJson(d.annotations)],
    ['artifactType', optString(d.artifactType)],
  ]);
}

export function manifestJson(m: ImageManifest): string {
  return goStruct([
    ['schemaVersion', String(m.schemaVersion)],
    ['mediaType', optString(m.mediaType)],
    ['artifactType', optString(m.artifactType)],
    ['config', descriptorJson(m.config)],
    ['layers', m.layers === null ? 'null' : `[${m.layers.map(descriptorJson).join(',')}]`],
    ['subject', m.subject === undefined ? undefined : descriptorJson(m.subject)],
    ['annotations', annotationsJson(m.annotations)],
  ]);
}

export class InvalidManifestError extends CairnError {
  override readonly name = 'InvalidManifestError';
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  const o = asObject(v);
  if (o === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function parseDescriptor(v: unknown, where: string): Descriptor {
  const o = asObject(v);
  const bad = (why: string): never => {
    throw new InvalidManifestError('manifest-invalid', `${where}: ${why}`, {
      hint: 'The store or registry holds a malformed manifest; re-pack or re-pull it.',
    });
  };
  if (o === undefined) return bad('a descriptor is not an object');
  const digest = typeof o.digest === 'string' ? parseSha256(o.digest) : undefined;
  if (digest === undefined) return bad(`unsupported or malformed digest ${String(o.digest)}`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0)
    return bad(`bad size for ${digest}`);
  const d: Descriptor = {
    mediaType: typeof o.mediaType === 'string' ? o.mediaType : '',
    digest,
    size: o.size,
  };
  const ann = stringMap(o.annotations);
  if (ann !== undefined) d.annotations = ann;
  if (typeof o.artifactType === 'string') d.artifactType = o.artifactType;
  return d;
}

/** Parses a manifest (any producer); `where` names it in errors (digest or reference). */
export function parseManifest(text: string, where: string): ImageManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidManifestError('manifest-invalid', `${where}: the manifest is not JSON`, {
      cause: error,
    });
  }
  const o = asObject(raw);
  if (o === undefined || o.schemaVersion !== 2) {
    throw new InvalidManifestError(
      'manifest-invalid',
      `${where}: not an OCI image manifest (schemaVersion 2)`,
    );
  }
  if (o.config === undefined) {
    throw new InvalidManifestError(
      'manifest-invalid',
      `${where}: the manifest has no config (an index?)`,
    );
  }
  const m: ImageManifest = {
    schemaVersion: 2,
    config: parseDescriptor(o.config, `${where} config`),
    layers: Array.isArray(o.layers)
      ? o.layers.map((l, i) => parseDescriptor(l, `${where} layer ${i}`))
      : null,
  };
  if (typeof o.mediaType === 'string') m.mediaType = o.mediaType;
  if (typeof o.artifactType === 'string') m.artifactType = o.artifactType;
  if (o.subject !== undefined) m.subject = parseDescriptor(o.subject, `${where} subject`);
  const ann = stringMap(o.annotations);
  if (ann !== undefined) m.annotations = ann;
  return m;
}
