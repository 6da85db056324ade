/**
 * The local ModelKit store in KitOps' layout (§3): one shared OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`, `ingest/`) plus `<base64url(repo)>-index.json` and
 * `<base64url(repo)>-tags.json` per repository, so kit and Cairn can share one store.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readAhead } from '../core/direct-io.js';
import { CairnError, DigestMismatchError, errnoCode } from '../core/errors.js';
import {
  createFileAtomic,
  lstatOrUndefined,
  sweepDeadTemps,
  tempSibling,
  tempSiblingPid,
  writeFileAtomic,
} from '../core/fs.js';
import { acquireLock, type HeldLock } from '../core/lock.js';
import { Sha256Counter, digestHex, sha256InPool, sha256Of, type Sha256Digest } from './digest.js';
import { descriptorJson, parseDescriptor, type Descriptor } from './manifest.js';
import { goString, byteOrder } from './gojson.js';

const INDEX_SUFFIX = '-index.json';
/** read size for blobs when the caller brings no ring of its own */
const CHUNK = 4 * 1024 * 1024;
const TAGS_SUFFIX = '-tags.json';

/** Where the store lives: `$CAIRN_HOME/storage`, or kit's `$KITOPS_HOME/storage` when shared. */
export function storeRoot(env: NodeJS.ProcessEnv, shareKitops = false): string {
  const share = shareKitops || env.CAIRN_MODELKIT_STORE === 'kitops';
  const xdg =
    env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== ''
      ? env.XDG_DATA_HOME
      : path.join(os.homedir(), '.local', 'share');
  if (share) {
    const home =
      env.KITOPS_HOME !== undefined && env.KITOPS_HOME !== ''
        ? env.KITOPS_HOME
        : path.join(xdg, 'kitops');
    return path.join(home, 'storage');
  }
  const home =
    env.CAIRN_HOME !== undefined && env.CAIRN_HOME !== ''
      ? env.CAIRN_HOME
      : path.join(xdg, 'cairn');
  return path.join(home, 'storage');
}

/** URL-safe base64 with padding, as kit names per-repository files. */
export function repoFileStem(repository: string): string {
  return Buffer.from(repository, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function decodeStem(stem: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+=*$/.test(stem)) return undefined;
  return Buffer.from(stem.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

export class MissingBlobError extends CairnError {
  override readonly name = 'MissingBlobError';
}

function indexJson(manifests: readonly Descriptor[]): string {
  return `{"schemaVersion":2,"manifests":[${manifests.map(descriptorJson).join(',')}]}`;
}

export class LocalStore {
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Opens (and creates, if needed) the layout at `root`. */
  static async open(root: string): Promise<LocalStore> {
    // Most opens find the layout whole: four checks at once, instead of two mkdirs and two
    // exclusive creates that fail with EEXIST (~4 ms of a `cairn serve` start).
    const parts = ['oci-layout', 'index.json', path.join('blobs', 'sha256'), 'ingest'];
    const whole = await Promise.all(parts.map((p) => fsp.access(path.join(root, p)))).then(
      () => true,
      () => false,
    );
    if (whole) return new LocalStore(root);
    await fsp.mkdir(path.join(root, 'blobs', 'sha256'), { recursive: true });
    await fsp.mkdir(path.join(root, 'ingest'), { recursive: true });
    // Created whole or not at all: a kill mid-write must not leave an empty index.json that
    // every later command fails to parse.
    await createFileAtomic(path.join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await createFileAtomic(path.join(root, 'index.json'), indexJson([]));
    const store = new LocalStore(root);
    return store;
  }

  /** Serialises writers (Cairn processes; kit does not take this lock). */
  lock(): Promise<HeldLock> {
    return acquireLock(`${this.root}.lock`, { timeoutMs: 60_000, command: 'cairn modelkit store' });
  }

  blobPath(digest: Sha256Digest): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: Sha256Digest): Promise<boolean> {
    try {
      await fsp.access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** A fresh temp file in `ingest/` for a blob being written. */
  ingestPath(): string {
    return tempSibling(path.join(this.root, 'ingest', 'blob'));
  }

  /** Removes temp files in `ingest/` left by Cairn processes that died (their pid is gone). */
  async cleanIngest(): Promise<number> {
    // Index writes leave their temps beside index.json; blob writes leave theirs in ingest/.
    return (
      (await sweepDeadTemps(path.join(this.root, 'ingest'), tempSiblingPid)) +
      (await sweepDeadTemps(this.root, tempSiblingPid))
    );
  }

  /** Moves a fully written, already verified temp file into place (or drops it if present). */
  async commitBlob(tmp: string, digest: Sha256Digest): Promise<void> {
    const existing = await lstatOrUndefined(this.blobPath(digest));
    // Same digest already stored: keep it, unless its size shows it is damaged (then heal it).
    if (existing !== undefined && existing.size === (await fsp.stat(tmp)).size) {
      await fsp.rm(tmp, { force: true });
      return;
    }
    await fsp.rename(tmp, this.blobPath(digest));
  }

  /** Stores small bytes (configs, manifests) and returns their digest. */
  async putBlob(data: string | Uint8Array): Promise<{ digest: Sha256Digest; size: number }> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const digest = sha256Of(bytes);
    if (!(await this.hasBlob(digest))) {
      // Written in ingest/ and renamed in: a killed writer never leaves a stray in blobs/.
      const tmp = this.ingestPath();
      try {
        await fsp.writeFile(tmp, bytes, { flag: 'wx' });
        await fsp.rename(tmp, this.blobPath(digest));
      } catch (error) {
        await fsp.rm(tmp, { force: true });
        throw error;
      }
    }
    return { digest, size: bytes.length };
  }

  /** Reads a small blob whole, checking its digest (and size, when known). */
  async readBlob(digest: Sha256Digest, expectedSize?: number): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.blobPath(digest));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw this.#missing(digest);
      throw error;
    }
    const actual = sha256Of(bytes);
    if (actual !== digest) {
      throw new DigestMismatchError(`blob ${this.blobPath(digest)}`, digest, actual, {
        hint: 'The local store is corrupt: remove the ModelKit (`cairn rm`) and pack or pull it again.',
      });
    }
    if (expectedSize !== undefined && bytes.length !== expectedSize) {
      throw new CairnError(
        'size-mismatch',
        `blob ${digest} is ${bytes.length} bytes, expected ${expectedSize}`,
      );
    }
    return bytes;
  }

  /**
   * A whole blob, its size and digest checked before anyone uses it: a DigestMismatchError when
   * it does not verify. One positional read into a buffer of its size, not readFile's 512 KiB
   * rounds through the main thread, so the read and its page faults stay on the thread pool, and
   * so does the hash when the native addon is built (sha256InPool). (A worker thread for the
   * read and hash was tried: its start cost more than it saved.)
   */
  async readBlobVerified(digest: Sha256Digest, expectedSize: number): Promise<Buffer> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.blobPath(digest), 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw this.#missing(digest);
      throw error;
    }
    const wrongSize = (size: number): CairnError =>
      new CairnError(
        'size-mismatch',
        `blob ${digest} is ${String(size)} bytes, expected ${String(expectedSize)}`,
      );
    let bytes: Buffer;
    try {
      const size = (await handle.stat()).size;
      if (size !== expectedSize) throw wrongSize(size);
      bytes = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
        if (bytesRead === 0) throw wrongSize(filled);
        filled += bytesRead;
      }
    } finally {
      await handle.close();
    }
    const actual = await sha256InPool(bytes);
    if (actual !== digest) {
      throw new DigestMismatchError(`blob ${this.blobPath(digest)}`, digest, actual, {
        hint: 'The local store is corrupt: remove the ModelKit (`cairn rm`) and pack or pull it again.',
      });
    }
    return bytes;
  }

  /**
   * Reads a blob in chunks, checking size and digest; the last chunk is yielded only after
   * the digest has verified. With `ring` buffers, chunks reuse them in turn: the consumer must
   * be done with a chunk `ring.length - 2` chunks later.
   */
  async *readChunks(
    digest: Sha256Digest,
    expectedSize: number,
    ring?: Buffer[],
  ): AsyncGenerator<Buffer> {
    const file = this.blobPath(digest);
    let fh;
    try {
      fh = await fsp.open(file, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw this.#missing(digest);
      throw error;
    }
    const hash = new Sha256Counter();
    try {
      let pos = 0;
      let held: Buffer | undefined;
      for await (const buf of readAhead(fh, ring === undefined ? { size: CHUNK } : { ring })) {
        pos += buf.length;
        if (pos > expectedSize) {
          throw new CairnError(
            'size-mismatch',
            `blob ${digest} is larger than its descriptor's ${expectedSize} bytes`,
          );
        }
        hash.update(buf);
        if (held !== undefined) yield held;
        held = buf;
      }
      if (pos !== expectedSize) {
        throw new CairnError(
          'size-mismatch',
          `blob ${digest} is ${pos} bytes, expected ${expectedSize}`,
        );
      }
      const actual = hash.digest();
      if (actual !== digest) {
        throw new DigestMismatchError(`blob ${file}`, digest, actual, {
          hint: 'The local store is corrupt: remove the ModelKit (`cairn rm`) and pack or pull it again.',
        });
      }
      if (held !== undefined) yield held;
    } finally {
      await fh.close();
    }
  }

  #missing(digest: Sha256Digest): MissingBlobError {
    return new MissingBlobError(
      'blob-missing',
      `blob ${digest} is missing from the store ${this.root}`,
      {
        hint: 'The store is incomplete: remove the ModelKit (`cairn rm`) and pack or pull it again.',
      },
    );
  }

  async deleteBlob(digest: Sha256Digest): Promise<void> {
    await fsp.rm(this.blobPath(digest), { force: true });
  }

  async listBlobs(): Promise<Sha256Digest[]> {
    const names = await fsp.readdir(path.join(this.root, 'blobs', 'sha256'));
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}` as Sha256Digest);
  }

  // -- per-repository files ---------------------------------------------------------------------

  /** Every `registry/repository` with an index file. */
  async listRepositories(): Promise<string[]> {
    const names = await fsp.readdir(this.root);
    const repos: string[] = [];
    for (const n of names) {
      if (!n.endsWith(INDEX_SUFFIX) || n === 'index.json') continue;
      const repo = decodeStem(n.slice(0, -INDEX_SUFFIX.length));
      if (repo !== undefined && repo.includes('/')) repos.push(repo);
    }
    return repos.sort();
  }

  async readRepoIndex(repository: string): Promise<Descriptor[]> {
    const file = path.join(this.root, `${repoFileStem(repository)}${INDEX_SUFFIX}`);
    const raw = await readJson(file);
    if (raw === undefined) return [];
    const list = (raw as { manifests?: unknown }).manifests;
    return Array.isArray(list)
      ? list.map((d, i) => parseDescriptor(d, `${file} manifest ${i}`))
      : [];
  }

  async writeRepoIndex(repository: string, manifests: readonly Descriptor[]): Promise<void> {
    const file = path.join(this.root, `${repoFileStem(repository)}${INDEX_SUFFIX}`);
    if (manifests.length === 0) await fsp.rm(file, { force: true });
    else await writeFileAtomic(file, indexJson(manifests));
  }

  async readTags(repository: string): Promise<Map<string, Descriptor>> {
    const file = path.join(this.root, `${repoFileStem(repository)}${TAGS_SUFFIX}`);
    const raw = await readJson(file);
    const out = new Map<string, Descriptor>();
    if (raw === undefined || typeof raw !== 'object' || raw === null) return out;
    for (const [tag, d] of Object.entries(raw))
      out.set(tag, parseDescriptor(d, `${file} tag ${tag}`));
    return out;
  }

  async writeTags(repository: string, tags: ReadonlyMap<string, Descriptor>): Promise<void> {
    const file = path.join(this.root, `${repoFileStem(repository)}${TAGS_SUFFIX}`);
    if (tags.size === 0) {
      await fsp.rm(file, { force: true });
      return;
    }
    const keys = [...tags.keys()].sort(byteOrder);
    const body = keys.map((k) => `${goString(k)}:${descriptorJson(tags.get(k) as Descriptor)}`);
    await writeFileAtomic(file, `{${body.join(',')}}`);
  }

  /** Records a manifest in the repository index and the root index (no duplicates). */
  async addManifest(repository: string, desc: Descriptor): Promise<void> {
    const list = await this.readRepoIndex(repository);
    if (!list.some((d) => d.digest === desc.digest))
      await this.writeRepoIndex(repository, [...list, desc]);
    const root = await this.readRootIndex();
    if (!root.some((d) => d.digest === desc.digest)) await this.writeRootIndex([...root, desc]);
  }

  async readRootIndex(): Promise<Descriptor[]> {
    const file = path.join(this.root, 'index.json');
    const raw = await readJson(file);
    const list = (raw as { manifests?: unknown } | undefined)?.manifests;
    return Array.isArray(list)
      ? list.map((d, i) => parseDescriptor(d, `${file} manifest ${i}`))
      : [];
  }

  async writeRootIndex(manifests: readonly Descriptor[]): Promise<void> {
    await writeFileAtomic(path.join(this.root, 'index.json'), indexJson(manifests));
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  // Only an interrupted creation (by a Cairn before createFileAtomic) leaves an empty file;
  // nothing was ever recorded in it, so it reads as absent.
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CairnError('store-corrupt', `${file} is not valid JSON`, {
      cause: error,
      hint: 'Restore or delete the file; the blobs it points to are still in the store.',
    });
  }
}
