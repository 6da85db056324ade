/**
 * The optional native helpers (native/cairn.cc, built by `npm install`): a scanner that lists
 * and lstat()s the units of an unchanged tree on several threads without a JavaScript object
 * per file, and the same walk hashing and storing small files for a first add. Absent, or
 * declining a unit, callers use the JavaScript walker in scan.ts (full semantics: links,
 * `.dvcignore`, error messages). It also takes the sha256 of bytes in memory on libuv's pool,
 * for `cairn serve` to verify a model while its main thread loads the server (oci/digest.ts).
 */
import { createRequire } from 'node:module';

/** One unit's files: names joined by NUL, and (ino, mtimeMs, size, mode) per file. */
export type NativeUnit = [names: Buffer, stats: Float64Array] | null;

/** Where {@link NativeHelpers.hashUnit} stores objects: a CacheLayout, spelled out for C++. */
export interface NativeStore {
  /** `<cache>/files/md5`, holding the two-hex-digit prefix folders */
  base: string;
  /** `<cache>/.cairn-tmp`, for named temps where O_TMPFILE does not work */
  tempDir: string;
  fileMode: number;
  dirMode: number;
  /** every prefix folder was just made on an empty cache (see prepareFreshCache) */
  fresh: boolean;
  /** O_TMPFILE where the filesystem has it (default); tests turn it off to try named temps */
  tmpfile?: boolean;
}

/**
 * One unit hashed natively: names and stats as {@link NativeUnit}, 32 hex digits of md5 per
 * file (32 '-' for a file over 4 MiB, left to the caller), and 32 hex digits per object this
 * call stored. The first three are null when the unit was declined; `stored` never is.
 */
export type NativeHashedUnit =
  | [names: Buffer, stats: Float64Array, md5s: Buffer, stored: Buffer]
  | [names: null, stats: null, md5s: null, stored: Buffer];

export interface NativeHelpers {
  scanUnits(root: string, units: [string[], string[]][], threads: number): NativeUnit[];
  /**
   * Walks one unit as scanUnits does, on libuv's pool, reading, hashing and (with `store`)
   * storing every file up to 4 MiB. Never rejects: a unit it cannot do exactly as scan.ts
   * would (or that hits any I/O error) comes back declined.
   */
  hashUnit(
    root: string,
    dirs: string[],
    files: string[],
    store: NativeStore | null,
  ): Promise<NativeHashedUnit>;
  /**
   * The 64 hex digits of the sha256 of `bytes`, taken on libuv's pool; `bytes` must not change
   * until it settles. Absent from an addon built before it was added.
   */
  sha256?: (bytes: Uint8Array) => Promise<string>;
}

let binding: NativeHelpers | null | undefined;

/** The loaded addon, or undefined when it was not built (or CAIRN_NATIVE=0 turns it off). */
export function nativeHelpers(env: NodeJS.ProcessEnv = process.env): NativeHelpers | undefined {
  if (env.CAIRN_NATIVE === '0') return undefined;
  if (binding === undefined) {
    try {
      // From src/data and from dist/data alike, the package root is two levels up.
      const require = createRequire(import.meta.url);
      binding = require('../../native/build/Release/cairn_native.node') as NativeHelpers;
    } catch {
      binding = null;
    }
  }
  return binding ?? undefined;
}
