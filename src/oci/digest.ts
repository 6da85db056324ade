/** Branded OCI content digests: the one module that mints `Sha256Digest` values. */
import { createHash, type Hash } from 'node:crypto';
import { nativeHelpers } from '../data/native.js';

declare const sha256Brand: unique symbol;

/** `sha256:` followed by 64 lowercase hex digits (OCI image-spec descriptor digest). */
export type Sha256Digest = string & { readonly [sha256Brand]: true };

const SHA256 = /^sha256:[0-9a-f]{64}$/;

/** Accepts a well-formed `sha256:<hex>` digest; undefined otherwise (other algorithms too). */
export function parseSha256(value: string): Sha256Digest | undefined {
  return SHA256.test(value) ? (value as Sha256Digest) : undefined;
}

export function isSha256(value: string): value is Sha256Digest {
  return SHA256.test(value);
}

/** The 64 hex digits of a digest, as used in blob file names. */
export function digestHex(digest: Sha256Digest): string {
  return digest.slice('sha256:'.length);
}

export function sha256Of(data: string | Uint8Array): Sha256Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Sha256Digest;
}

/**
 * The sha256 of bytes in memory, taken on libuv's thread pool by the native addon when it is
 * built, else as sha256Of. The main thread goes on meanwhile: `cairn serve` loads its modules
 * while a model verifies, and the first pass over a freshly read 10 MB buffer (~35 ms here, four
 * times a later one: its pages are first touched) is paid off the main thread. `bytes` must not
 * change until it settles.
 */
export async function sha256InPool(bytes: Uint8Array): Promise<Sha256Digest> {
  const hash = nativeHelpers()?.sha256;
  if (hash === undefined) return sha256Of(bytes);
  return `sha256:${await hash(bytes)}` as Sha256Digest;
}

/** An incremental sha256 that also counts bytes. */
export class Sha256Counter {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  /** bytes seen so far */
  get size(): number {
    return this.#size;
  }

  digest(): Sha256Digest {
    return `sha256:${this.#hash.digest('hex')}` as Sha256Digest;
  }
}
