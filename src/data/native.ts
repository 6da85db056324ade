/**
 * The optional native scanner (native/scan.cc, built by `npm install`): lists and lstat()s
 * the units of an unchanged tree on several threads without a JavaScript object per file.
 * Absent or declining a unit, callers use the JavaScript walker in scan.ts, which has the
 * full semantics (symbolic links, `.dvcignore`, error messages).
 */
import { createRequire } from 'node:module';

/** One unit's files: names joined by NUL, and (ino, mtimeMs, size, mode) per file. */
export type NativeUnit = [names: Buffer, stats: Float64Array] | null;

interface Binding {
  scanUnits(root: string, units: [string[], string[]][], threads: number): NativeUnit[];
}

let binding: Binding | null | undefined;

/** The loaded addon, or undefined when it was not built (or CAIRN_NATIVE=0 turns it off). */
export function nativeScanner(env: NodeJS.ProcessEnv = process.env): Binding | undefined {
  if (env.CAIRN_NATIVE === '0') return undefined;
  if (binding === undefined) {
    try {
      // From src/data and from dist/data alike, the package root is two levels up.
      const require = createRequire(import.meta.url);
      binding = require('../../native/build/Release/cairn_scan.node') as Binding;
    } catch {
      binding = null;
    }
  }
  return binding ?? undefined;
}
