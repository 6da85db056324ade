/** Branded content digests: the one module that mints `Md5Hex` values. */

declare const md5Brand: unique symbol;

/** 32 lowercase hex digits: the MD5 of a file's bytes, or with `.dir`, of a directory manifest. */
export type Md5Hex = string & { readonly [md5Brand]: true };

const FILE_MD5 = /^[0-9a-f]{32}$/;
const ANY_MD5 = /^[0-9a-f]{32}(\.dir)?$/;

export const DIR_SUFFIX = '.dir';

/** Accepts a file md5 or a `<md5>.dir` tree hash; returns undefined when malformed. */
export function parseMd5(value: string): Md5Hex | undefined {
  return ANY_MD5.test(value) ? (value as Md5Hex) : undefined;
}

/** For values computed by our own hashing code (always well-formed). */
export function md5FromHex(hex: string): Md5Hex {
  if (!FILE_MD5.test(hex)) throw new Error(`Internal error: not an md5 digest: ${hex}`);
  return hex as Md5Hex;
}

export function dirMd5(hex: string): Md5Hex {
  return `${md5FromHex(hex)}${DIR_SUFFIX}` as Md5Hex;
}

export function isDirMd5(md5: Md5Hex): boolean {
  return md5.endsWith(DIR_SUFFIX);
}
