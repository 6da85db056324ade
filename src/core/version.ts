/** Cairn's own version, for places that name it at run time (image tags, server metadata). */

/** Kept equal to package.json's `version` (src/core/version.test.ts checks). */
export const CAIRN_VERSION = '0.1.0';
