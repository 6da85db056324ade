/** The local ModelKit commands: pack, list, info, inspect, tag, rm and diff. */
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import type { Sha256Digest } from '../oci/digest.js';
import {
  listStored,
  readManifest,
  removeAll,
  removeReference,
  resolveLocal,
  tagReference,
  type Removed,
} from '../oci/local-repo.js';
import type { ImageManifest } from '../oci/manifest.js';
import { ANNOTATION_CLI_VERSION } from '../oci/media-types.js';
import {
  displayReference,
  displayRepository,
  formatReference,
  orLatest,
  parseReference,
  splitRepository,
  withTag,
  type OciReference,
} from '../oci/reference.js';
import { readModelKit } from '../modelkit/read.js';
import type { Kitfile } from '../modelkit/kitfile.js';
import { COMPRESSIONS, type Compression } from '../modelkit/layer-sink.js';
import { infoOf, type KitInfo } from '../modelkit/kitfile-filter.js';
import { layerBytes, listRow, type ListRow } from '../modelkit/list-row.js';
import type { CommandContext } from './context.js';
import { openStore, type StoreFlags } from './options.js';

/** `-t ref[,tag2]` (repeatable) into references; a missing tag becomes `latest`. */
export function parseTagArgs(tags: readonly string[]): OciReference[] {
  const refs: OciReference[] = [];
  for (const t of tags) {
    const { ref, extraTags } = parseReference(t);
    if (ref.digest !== undefined) {
      throw new CairnError('tag-digest', `-t ${t}: a tag cannot be a digest`, {
        hint: 'Give -t as repository[:tag][,tag2…].',
      });
    }
    refs.push(orLatest(ref));
    for (const extra of extraTags) refs.push(withTag(ref, extra));
  }
  return refs;
}

export interface PackCommandOptions extends StoreFlags {
  dir: string;
  file?: string;
  tags: string[];
  compression: string;
  layerFormat?: 'tar' | 'raw';
}

export async function kitPack(ctx: CommandContext, o: PackCommandOptions) {
  if (!(COMPRESSIONS as readonly string[]).includes(o.compression)) {
    throw new CairnError(
      'bad-flag',
      `--compression ${o.compression} is not one of ${COMPRESSIONS.join(', ')}`,
    );
  }
  const { readKitfile } = await import('../modelkit/kitfile-parse.js');
  const { pack } = await import('../modelkit/pack.js');
  const refs = parseTagArgs(o.tags);
  const contextDir = path.resolve(ctx.cwd, o.dir);
  const kitfile = await readKitfile(contextDir, o.file, ctx.cwd);
  const store = await openStore(ctx, o);
  const result = await pack({
    contextDir,
    kitfile,
    store,
    refs,
    compression: o.compression as Compression,
    layerFormat: o.layerFormat ?? 'tar',
    env: ctx.env,
    sink: ctx.sink,
  });
  return {
    digest: result.digest,
    references: refs.map(displayReference),
    layers: result.layers,
    store: store.root,
  };
}

export async function kitList(
  ctx: CommandContext,
  o: StoreFlags & { repo?: string },
): Promise<ListRow[]> {
  const store = await openStore(ctx, o);
  let repo: string | undefined;
  if (o.repo !== undefined) {
    const { ref } = parseReference(o.repo);
    repo = `${ref.registry}/${ref.repository}`;
  }
  const rows: ListRow[] = [];
  for (const item of await listStored(store, repo)) {
    let kitfile: Kitfile | undefined;
    let bytes = 0;
    try {
      const manifest = await readManifest(store, item.desc);
      bytes = layerBytes(manifest);
      kitfile = (await readModelKit(store, manifest, item.desc.digest)).kitfile;
    } catch (error) {
      ctx.sink({ type: 'warning', message: `${item.desc.digest}: ${(error as Error).message}` });
    }
    const { registry, repository } = splitRepository(item.repository);
    rows.push(
      listRow(displayRepository(registry, repository), item.desc.digest, item.tags, kitfile, bytes),
    );
  }
  return rows;
}

async function load(ctx: CommandContext, reference: string, o: StoreFlags) {
  const store = await openStore(ctx, o);
  const { ref } = parseReference(reference);
  const resolved = await resolveLocal(store, ref.digest === undefined ? orLatest(ref) : ref);
  const manifest = await readManifest(store, resolved.desc);
  const mk = await readModelKit(store, manifest, resolved.desc.digest);
  return { store, ref, resolved, manifest, ...mk };
}

export async function kitInfo(
  ctx: CommandContext,
  reference: string,
  o: StoreFlags & { filter?: string },
): Promise<KitInfo> {
  const { kitfile } = await load(ctx, reference, o);
  if (kitfile === undefined) throw new CairnError('no-kitfile', `${reference} carries no Kitfile`);
  return infoOf(kitfile, o.filter);
}

export async function kitInspect(ctx: CommandContext, reference: string, o: StoreFlags) {
  const { resolved, manifest, kitfile } = await load(ctx, reference, o);
  return {
    digest: resolved.desc.digest,
    cliVersion: manifest.annotations?.[ANNOTATION_CLI_VERSION] ?? 'unknown',
    kitfile: kitfile ?? null,
    manifest,
  };
}

export async function kitTag(ctx: CommandContext, source: string, dest: string, o: StoreFlags) {
  const store = await openStore(ctx, o);
  const src = parseReference(source).ref;
  const { ref, extraTags } = parseReference(dest);
  const targets = [orLatest(ref), ...extraTags.map((t) => withTag(ref, t))];
  await using _lock = await store.lock();
  for (const t of targets)
    await tagReference(store, src.digest === undefined ? orLatest(src) : src, t);
  return { source: displayReference(src), tagged: targets.map(displayReference) };
}

export async function kitRemove(
  ctx: CommandContext,
  references: readonly string[],
  o: StoreFlags & { force: boolean; all: boolean },
): Promise<Removed> {
  const store = await openStore(ctx, o);
  await using _lock = await store.lock();
  if (o.all) {
    if (references.length > 0) {
      throw new CairnError('bad-flag', '--all takes no references');
    }
    return await removeAll(store, { force: o.force });
  }
  if (references.length === 0) {
    throw new CairnError('bad-flag', 'name a ModelKit to remove, or use --all', {
      hint: 'e.g. `cairn rm myorg/model:v1`, `cairn rm sha256:…`, `cairn rm --all`.',
    });
  }
  const total: Removed = { untagged: [], manifests: [], blobs: [] };
  for (const r of references) {
    const { ref, extraTags } = parseReference(r);
    for (const one of [
      ref.digest === undefined ? orLatest(ref) : ref,
      ...extraTags.map((t) => withTag(ref, t)),
    ]) {
      const res = await removeReference(store, one, { force: o.force });
      total.untagged.push(...res.untagged);
      total.manifests.push(...res.manifests);
      total.blobs.push(...res.blobs);
    }
  }
  return total;
}

export interface DiffResult {
  a: { reference: string; digest: Sha256Digest };
  b: { reference: string; digest: Sha256Digest };
  configEqual: boolean;
  annotationsEqual: boolean;
  sharedLayers: { digest: Sha256Digest; mediaType: string; size: number }[];
  onlyInA: { digest: Sha256Digest; mediaType: string; size: number }[];
  onlyInB: { digest: Sha256Digest; mediaType: string; size: number }[];
}

function stripPrefix(r: string): string {
  if (r.startsWith('remote://')) {
    throw new CairnError(
      'remote-unsupported',
      `${r}: remote diff needs the registry client, which is not available yet`,
    );
  }
  return r.replace(/^local:\/\//, '');
}

export async function kitDiff(
  ctx: CommandContext,
  refA: string,
  refB: string,
  o: StoreFlags,
): Promise<DiffResult> {
  const a = await load(ctx, stripPrefix(refA), o);
  const b = await load(ctx, stripPrefix(refB), o);
  const layers = (m: ImageManifest) =>
    (m.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size }));
  const la = layers(a.manifest);
  const lb = layers(b.manifest);
  const inB = new Set(lb.map((l) => l.digest));
  const inA = new Set(la.map((l) => l.digest));
  const ann = (m: ImageManifest) => JSON.stringify(Object.entries(m.annotations ?? {}).sort());
  return {
    a: { reference: formatReference(a.ref), digest: a.resolved.desc.digest },
    b: { reference: formatReference(b.ref), digest: b.resolved.desc.digest },
    configEqual: a.manifest.config.digest === b.manifest.config.digest,
    annotationsEqual: ann(a.manifest) === ann(b.manifest),
    sharedLayers: la.filter((l) => inB.has(l.digest)),
    onlyInA: la.filter((l) => !inB.has(l.digest)),
    onlyInB: lb.filter((l) => !inA.has(l.digest)),
  };
}
