/**
 * The optional native helpers (native/cairn.cc, built by `npm install`): a scanner that lists
 * and lstat()s the units of an unchanged tree on several threads without a JavaScript object
 * per file, and an in-kernel range copy. Absent, or declining a unit, callers use the
 * JavaScript walker in scan.ts (full semantics: links, `.dvcignore`, error messages) and
 * ordinary reads and writes.
 */
import { createRequire } from 'node:module';

/** One unit's files: names joined by NUL, and (ino, mtimeMs, size, mode) per file. */
export type NativeUnit = [names: Buffer, stats: Float64Array] | null;

export interface NativeHelpers {
  scanUnits(root: string, units: [string[], string[]][], threads: number): NativeUnit[];
  /** Copies `len` bytes in the kernel; resolves to the bytes copied (fewer at end of input). */
  copyRange(
    fdIn: number,
    offIn: number,
    fdOut: number,
    offOut: number,
    len: number,
  ): Promise<number>;
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
