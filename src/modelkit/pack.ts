/**
 * `pack`: a context directory and its Kitfile become a ModelKit in the local store — one tar
 * layer per Kitfile entry (hashed while written), the Go-compatible config, and the manifest.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { directIoAllowed } from '../core/direct-io.js';
import { CairnError, ManifestError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { isInside } from '../core/fs.js';
import type { Sha256Digest } from '../oci/digest.js';
import type { LocalStore } from '../oci/layout.js';
import {
  ANNOTATION_CLI_VERSION,
  ANNOTATION_CREATED,
  ANNOTATION_FILEPATH,
  ANNOTATION_FILE_METADATA,
  ANNOTATION_SUBTYPE,
  MANIFEST_MEDIA_TYPE,
  MODELKIT_ARTIFACT_TYPE,
  MODELKIT_CONFIG_TYPE,
  formatLayerType,
  type LayerBase,
} from '../oci/media-types.js';
import { manifestJson, type Descriptor, type ImageManifest } from '../oci/manifest.js';
import { isModelKitReference, type OciReference } from '../oci/reference.js';
import { kitfileToConfigJson, type Kitfile, type LayerInfo } from './kitfile.js';
import type { ParsedKitfile } from './kitfile-parse.js';
import { assertValidKitfile, cleanPath, positionOf } from './kitfile-validate.js';
import { KitIgnore } from './kitignore.js';
import { createLayerSink, type ByteSink, type Compression } from './layer-sink.js';
import { walkLayer } from './layer-walk.js';
import { provenanceAnnotations } from './provenance.js';
import { writeRaw, writeTar } from './tar-writer.js';
import type { WalkEntry } from './layer-walk.js';
import { goString } from '../oci/gojson.js';
import { resolveParentPaths } from './chain.js';
import { recordManifest } from '../oci/local-repo.js';

export const CLI_VERSION = 'cairn/0.1.0';

export interface PackOptions {
  contextDir: string;
  kitfile: ParsedKitfile;
  store: LocalStore;
  /** references to tag; empty packs into `localhost/_`, untagged */
  refs: OciReference[];
  compression: Compression;
  /** `raw` stores each layer path's bytes as they are (one regular file per layer; kit v1.15) */
  layerFormat?: 'tar' | 'raw';
  env: NodeJS.ProcessEnv;
  sink: EventSink;
  /** for `org.opencontainers.image.created` when SOURCE_DATE_EPOCH is unset */
  now?: () => Date;
}

export interface PackedLayer {
  path: string;
  mediaType: string;
  digest: Sha256Digest;
  size: number;
}

export interface PackResult {
  digest: Sha256Digest;
  manifest: ImageManifest;
  config: Kitfile;
  layers: PackedLayer[];
}

/** One layer to build: which Kitfile entry, which base type, where the path was written. */
interface LayerPlan {
  entry: LayerInfo & { path?: string };
  base: LayerBase;
  at: string;
  prompt: boolean;
}

function plan(k: Kitfile): LayerPlan[] {
  const out: LayerPlan[] = [];
  const add = (entry: LayerPlan['entry'], base: LayerBase, at: string, prompt = false) =>
    out.push({ entry, base, at, prompt });
  if (k.model !== undefined && !isModelKitReference(k.model.path ?? ''))
    add(k.model, 'model', 'model.path');
  k.model?.parts?.forEach((p, i) => add(p, 'modelpart', `model.parts[${i}].path`));
  k.code?.forEach((c, i) => add(c, 'code', `code[${i}].path`));
  k.datasets?.forEach((d, i) => {
    if (d.remotePath === undefined) add(d, 'dataset', `datasets[${i}].path`);
  });
  k.docs?.forEach((d, i) => add(d, 'docs', `docs[${i}].path`));
  k.prompts?.forEach((p, i) => add(p, 'code', `prompts[${i}].path`, true));
  return out;
}

/** `org.opencontainers.image.created`: SOURCE_DATE_EPOCH if set, else now (UTC, seconds). */
export function createdTimestamp(env: NodeJS.ProcessEnv, now: () => Date): string {
  const sde = env.SOURCE_DATE_EPOCH;
  let date: Date;
  if (sde !== undefined && sde !== '') {
    if (!/^-?\d+$/.test(sde.trim())) {
      throw new CairnError('source-date-epoch', `SOURCE_DATE_EPOCH is not an integer: ${sde}`, {
        hint: 'Set it to seconds since 1970 (e.g. `git log -1 --format=%ct`), or unset it.',
      });
    }
    date = new Date(Number(sde.trim()) * 1000);
  } else {
    date = now();
  }
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function pack(o: PackOptions): Promise<PackResult> {
  const parsed = o.kitfile;
  assertValidKitfile(parsed, (message) => {
    o.sink({ type: 'warning', message });
  });
  const k = structuredClone(parsed.kitfile);
  if (k.mcpServers !== undefined && k.mcpServers.length > 0) {
    const p = positionOf(parsed, 'mcpServers');
    throw new ManifestError(
      parsed.file,
      p.line,
      p.col,
      'mcpServers are not supported by cairn pack yet',
      {
        hint: 'Pack this Kitfile with kit, or remove the mcpServers section.',
      },
    );
  }
  const contextDir = path.resolve(o.contextDir);
  const realContext = await fsp.realpath(contextDir);
  const layers = plan(k);
  const parentPaths =
    k.model?.path !== undefined && isModelKitReference(k.model.path)
      ? await resolveParentPaths(o.store, k.model.path, parsed)
      : [];
  const cleaned = layers.map((l) => cleanPath(l.entry.path ?? ''));
  const allPaths = [...cleaned, ...parentPaths];

  // Every layer path must exist and resolve inside the context before anything is written.
  for (const [i, l] of layers.entries()) {
    const rel = cleaned[i] ?? '.';
    const abs = path.join(contextDir, rel);
    let real: string;
    try {
      real = await fsp.realpath(abs);
    } catch {
      const p = positionOf(parsed, l.at);
      throw new ManifestError(
        parsed.file,
        p.line,
        p.col,
        `${rel} does not exist in ${contextDir}`,
        {
          hint: 'Fix the path (relative to the context directory) or create the file.',
        },
      );
    }
    if (!isInside(realContext, real)) {
      const p = positionOf(parsed, l.at);
      throw new ManifestError(
        parsed.file,
        p.line,
        p.col,
        `${rel} resolves to ${real}, outside the context directory ${contextDir}`,
        {
          hint: 'Layer paths must stay within the context directory (symlinks are followed).',
        },
      );
    }
  }

  // git and the dvc.lock digest run alongside the layers (git status can take a while) and
  // describe the context as the pack began reading it.
  const provenance = provenanceAnnotations(contextDir, o.env);
  provenance.catch(() => undefined); // awaited below; a pack that fails first ignores it
  await o.store.cleanIngest();
  const ignore = await KitIgnore.load(contextDir);
  const descriptors: Descriptor[] = [];
  const packed: PackedLayer[] = [];
  const warn = (message: string) => {
    o.sink({ type: 'warning', message });
  };
  const started = Date.now();
  let bytesDone = 0;
  for (const [i, l] of layers.entries()) {
    const rel = cleaned[i] ?? '.';
    const excluded = allPaths.filter((p, j) => j !== i && !rel.startsWith(p) && p !== rel);
    const raw = o.layerFormat === 'raw';
    const entries = raw
      ? [await rawEntry(contextDir, rel, parsed, l.at)]
      : await walkLayer({ contextDir, layerPath: rel, excluded, ignore, warn });
    const total = entries.reduce((s, e) => s + e.size, 0);
    const tmp = o.store.ingestPath();
    const fh = await fsp.open(tmp, 'wx', 0o644);
    let blob;
    let sink: ByteSink | undefined;
    try {
      sink = await createLayerSink(fh, tmp, o.compression, directIoAllowed(o.env));
      await (raw ? writeRaw : writeTar)(entries, sink, (n) => {
        bytesDone += n;
        o.sink({
          type: 'progress',
          phase: `pack ${rel}`,
          done: bytesDone,
          bytes: bytesDone,
          totalBytes: total,
        });
      });
      blob = await sink.finish();
      await fh.close();
    } catch (error) {
      await sink?.discard();
      await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw error;
    }
    await o.store.commitBlob(tmp, blob.digest);
    const annotations: Record<string, string> = { [ANNOTATION_FILEPATH]: rel };
    if (l.prompt) annotations[ANNOTATION_SUBTYPE] = 'prompt';
    const first = entries[0];
    if (raw && first !== undefined)
      annotations[ANNOTATION_FILE_METADATA] = await fileMetadata(first);
    const mediaType = formatLayerType({
      base: l.base,
      format: raw ? 'raw' : 'tar',
      compression: o.compression === 'gzip-fastest' ? 'gzip' : o.compression,
    });
    descriptors.push({ mediaType, digest: blob.digest, size: blob.size, annotations });
    packed.push({ path: rel, mediaType, digest: blob.digest, size: blob.size });
    l.entry.digest = blob.digest;
    l.entry.diffId = blob.diffId;
  }
  o.sink({
    type: 'phase-done',
    phase: 'pack',
    done: layers.length,
    bytes: bytesDone,
    ms: Date.now() - started,
  });

  const configBytes = kitfileToConfigJson(k);
  const annotations: Record<string, string> = {
    [ANNOTATION_CLI_VERSION]: CLI_VERSION,
    [ANNOTATION_CREATED]: createdTimestamp(o.env, o.now ?? (() => new Date())),
    ...(await provenance),
  };
  const lock = await o.store.lock();
  try {
    // A concurrent `rm` may have collected a shared layer blob after we wrote it.
    for (const d of descriptors) {
      if (!(await o.store.hasBlob(d.digest))) {
        throw new CairnError('blob-vanished', `layer blob ${d.digest} was removed while packing`, {
          hint: 'Another command removed ModelKits meanwhile; run the pack again.',
        });
      }
    }
    const config = await o.store.putBlob(configBytes);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      artifactType: MODELKIT_ARTIFACT_TYPE,
      config: { mediaType: MODELKIT_CONFIG_TYPE, digest: config.digest, size: config.size },
      layers: descriptors.length === 0 ? null : descriptors,
      annotations,
    };
    const bytes = manifestJson(manifest);
    const stored = await o.store.putBlob(bytes);
    const desc: Descriptor = {
      mediaType: MANIFEST_MEDIA_TYPE,
      digest: stored.digest,
      size: stored.size,
    };
    await recordManifest(o.store, desc, o.refs);
    return { digest: stored.digest, manifest, config: k, layers: packed };
  } finally {
    await lock.release();
  }
}

/** The single regular file a raw layer holds; a directory is an error, as in kit. */
async function rawEntry(
  contextDir: string,
  rel: string,
  parsed: ParsedKitfile,
  at: string,
): Promise<WalkEntry> {
  const abs = path.join(contextDir, rel);
  const st = await fsp.stat(abs);
  if (!st.isFile()) {
    const p = positionOf(parsed, at);
    throw new ManifestError(
      parsed.file,
      p.line,
      p.col,
      `${rel} is not a regular file; --layer-format raw packs one file per layer`,
      {
        hint: 'Use the default tar layer format for directories.',
      },
    );
  }
  return { name: rel, type: 'file', mode: st.mode & 0o7777, size: st.size, abs };
}

/** `org.cncf.model.file.metadata+json` for a raw layer (model-spec FileMetadata, Go field order). */
async function fileMetadata(e: WalkEntry): Promise<string> {
  const st = await fsp.stat(e.abs);
  const mtime = st.mtime.toISOString().replace(/\.000Z$/, 'Z');
  return `{"name":${goString(path.posix.basename(e.name))},"mode":${e.mode & 0o777},"uid":0,"gid":0,"size":${e.size},"mtime":${goString(mtime)},"typeflag":48}`;
}
