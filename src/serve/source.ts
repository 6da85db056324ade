/**
 * Resolving a `cairn serve` SOURCE into verified model bytes with a name, a version and a
 * digest: an `.onnx` file, a folder with a Kitfile (a packing context or an unpacked ModelKit),
 * or a ModelKit reference — the local store first, else pulled from its registry — whose model
 * layer is unpacked (digests checked on the way) by the same code as `cairn unpack`.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CairnError, DigestMismatchError, errnoCode } from '../core/errors.js';
import { sha256InPool } from '../oci/digest.js';
import { NotFoundError, readManifest, resolveLocal } from '../oci/local-repo.js';
import type { LocalStore } from '../oci/layout.js';
import { readModelKit } from '../modelkit/read.js';
import { readModelLayer } from './model-layer.js';
import { DEFAULT_REGISTRY, orLatest, parseReference } from '../oci/reference.js';
import type { Kitfile } from '../modelkit/kitfile.js';

/**
 * What resolving a ModelKit needs from the layer above (the command wires the local store, the
 * registry transport and `cairn unpack`'s extraction into it).
 */
export interface ModelKitAccess {
  /** relative SOURCE paths resolve against it */
  readonly cwd: string;
  openStore(): Promise<LocalStore>;
  /** pulls a reference the local store lacks (and the parents it names) into the store */
  pull(reference: string): Promise<void>;
  /** extracts a stored ModelKit's model and Kitfile (`pinned` is `repository@digest`) into `dir` */
  unpack(pinned: string, dir: string): Promise<void>;
}

/** A model ready to load: its bytes were read whole. */
export interface ResolvedSource {
  readonly name: string;
  /** the ModelKit's manifest digest, or the ONNX file's digest */
  readonly version: string;
  /**
   * sha256 of `bytes`. A stored ModelKit's model may still be hashing on the thread pool: its
   * layer has verified before it was read, so this is a name for the bytes, not their check,
   * and the session can be created meanwhile (`bytes` stay unchanged until it settles).
   */
  readonly digest: Promise<string>;
  /** the .onnx file the bytes came from, for messages */
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** A promise a caller may never await (a load that failed first): its rejection is not unhandled. */
function pending<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * What a model name and a version label may be (in `NAME=SOURCE`, a config file and a
 * repository load): letters, digits, `.`, `_` and `-`, starting with a letter or digit; no `:`,
 * so a label never reads as a digest.
 */
const NAME = '[A-Za-z0-9][A-Za-z0-9._-]*';
export const NAME_PATTERN = new RegExp(`^${NAME}$`);
const NAMED = new RegExp(`^(${NAME})=(.+)$`);

/** Splits `NAME=SOURCE`; a plain SOURCE has no name of its own. */
export function splitNamed(arg: string): { name?: string; source: string } {
  const m = NAMED.exec(arg);
  return m?.[1] !== undefined && m[2] !== undefined
    ? { name: m[1], source: m[2] }
    : { source: arg };
}

/**
 * A SOURCE with a local path made absolute against `baseDir` (anything that starts with `.` or
 * `/`, ends in `.onnx` or has no `:`); a ModelKit reference as it is.
 */
export function absoluteSource(source: string, baseDir: string): string {
  const looksLocal =
    source.startsWith('.') ||
    source.startsWith('/') ||
    source.endsWith('.onnx') ||
    !source.includes(':');
  return looksLocal ? path.resolve(baseDir, source) : source;
}

async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    throw new CairnError(
      'model-unreadable',
      `cannot read the model ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** The .onnx file a Kitfile's `model.path` names inside `dir` (a file, or a folder holding one). */
async function modelFile(dir: string, kitfile: Kitfile, where: string): Promise<string> {
  const rel = kitfile.model?.path;
  if (rel === undefined)
    throw new CairnError('no-model', `${where}: the Kitfile has no model.path`, {
      hint: 'Serve a ModelKit whose Kitfile declares a model.',
    });
  const target = path.resolve(dir, rel);
  if (!(await fsp.stat(target)).isDirectory()) return target;
  const found = (await fsp.readdir(target, { recursive: true })).filter((f) => f.endsWith('.onnx'));
  if (found.length !== 1 || found[0] === undefined) {
    throw new CairnError(
      'no-model',
      `${where}: model.path ${rel} holds ${found.length} .onnx files, expected one`,
      { hint: 'Point model.path at the .onnx file, or serve the file itself.' },
    );
  }
  return path.join(target, found[0]);
}

const kitName = (k: Kitfile, fallback: string): string =>
  k.model?.name ?? k.package.name ?? fallback;

async function fromFolder(
  dir: string,
  name: string | undefined,
  reading: () => void,
): Promise<ResolvedSource> {
  // The YAML parser loads only for a Kitfile folder, not for a stored ModelKit.
  const { readKitfile } = await import('../modelkit/kitfile-parse.js');
  const { kitfile } = await readKitfile(dir, undefined, dir);
  const file = await modelFile(dir, kitfile, dir);
  reading();
  const bytes = await readModelFile(file);
  const digest = await sha256InPool(bytes);
  return {
    name: name ?? kitName(kitfile, path.basename(dir)),
    version: digest,
    digest: Promise.resolve(digest),
    file,
    bytes,
  };
}

async function fromFile(
  file: string,
  name: string | undefined,
  reading: () => void,
): Promise<ResolvedSource> {
  reading();
  const bytes = await readModelFile(file);
  const digest = await sha256InPool(bytes);
  return {
    name: name ?? path.basename(file, path.extname(file)),
    version: digest,
    digest: Promise.resolve(digest),
    file,
    bytes,
  };
}

async function fromModelKit(
  access: ModelKitAccess,
  reference: string,
  name: string | undefined,
  reading: () => void,
): Promise<ResolvedSource> {
  const { ref } = parseReference(reference);
  const store = await access.openStore();
  const wanted = ref.digest === undefined ? orLatest(ref) : ref;
  let found;
  try {
    found = await resolveLocal(store, wanted);
  } catch (error) {
    if (!(error instanceof NotFoundError) || ref.registry === DEFAULT_REGISTRY) throw error;
    await access.pull(reference);
    found = await resolveLocal(store, wanted);
  }
  const digest = found.desc.digest;
  const corrupt = (error: unknown): never => {
    if (!(error instanceof DigestMismatchError)) throw error;
    throw new CairnError(
      'modelkit-corrupt',
      `ModelKit ${reference} (${digest}) does not verify: ${error.message}`,
      { hint: error.hint ?? 'Remove it (`cairn rm`) and pack or pull it again.', cause: error },
    );
  };
  const model = await modelBytes(access, store, `${found.repository}@${digest}`, reading).catch(
    corrupt,
  );
  return {
    name: name ?? kitName(model.kitfile, ref.repository.split('/').pop() ?? ref.repository),
    version: digest,
    digest:
      model.digest === undefined
        ? pending(sha256InPool(model.bytes))
        : Promise.resolve(model.digest),
    file: `${reference}:${model.name}`,
    bytes: model.bytes,
  };
}

/**
 * The model file of a stored ModelKit (`pinned` is `repository@digest`): straight from its
 * layer when it is a plain one, else through a temporary `cairn unpack`.
 */
async function modelBytes(
  access: ModelKitAccess,
  store: LocalStore,
  pinned: string,
  reading: () => void,
): Promise<{ kitfile: Kitfile; name: string; bytes: Uint8Array; digest?: string }> {
  const { ref } = parseReference(pinned);
  const { desc } = await resolveLocal(store, ref);
  const manifest = await readManifest(store, desc);
  const { kitfile } = await readModelKit(store, manifest, desc.digest);
  if (kitfile !== undefined) {
    const direct = await readModelLayer(store, manifest, kitfile, reading);
    if (direct !== undefined) return { kitfile, ...direct };
  }
  reading();
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-serve-'));
  try {
    await access.unpack(pinned, tmp);
    const { readKitfile } = await import('../modelkit/kitfile-parse.js');
    const unpacked = (await readKitfile(tmp, undefined, tmp)).kitfile;
    const file = await modelFile(tmp, unpacked, pinned);
    return {
      kitfile: unpacked,
      name: path.relative(tmp, file),
      // `cairn unpack` checked every digest on the way
      bytes: await readModelFile(file),
    };
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Resolves one SOURCE argument (`[NAME=]SOURCE`) relative to `ctx.cwd`; `reading` is called
 * once the metadata is found and the model's bytes start loading (the long part).
 */
export async function resolveSource(
  access: ModelKitAccess,
  arg: string,
  reading: () => void = () => undefined,
): Promise<ResolvedSource> {
  const { name, source } = splitNamed(arg);
  const local = path.resolve(access.cwd, source);
  let stat;
  try {
    stat = await fsp.stat(local);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  if (stat?.isDirectory() === true) return fromFolder(local, name, reading);
  if (stat !== undefined) return fromFile(local, name, reading);
  if (source.endsWith('.onnx'))
    throw new CairnError('model-missing', `${source}: no such file`, {
      hint: 'Give the path of an .onnx file, a folder with a Kitfile, or a ModelKit reference.',
    });
  return fromModelKit(access, source, name, reading);
}
