/** A row of `list`, local or remote, with kit's size notation (part of its JSON output). */
import type { Sha256Digest } from '../oci/digest.js';
import type { ImageManifest } from '../oci/manifest.js';
import type { Kitfile } from './kitfile.js';

export interface ListRow {
  repo: string;
  digest: Sha256Digest;
  tags: string[];
  modelName: string;
  /** kit's formatted size (sum of layer sizes) */
  size: string;
  author: string;
  /** bytes */
  bytes: number;
}

/** kit's FormatBytes: `%.1f` of the unit, rounded down; plain bytes below 1 KiB. */
export function formatSize(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (n < 1024) return `${n} B`;
  let v = n;
  let unit = 'B';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${(Math.floor(v * 10) / 10).toFixed(1)} ${unit}`;
}

/** The sum of a manifest's layer sizes, in bytes. */
export function layerBytes(m: ImageManifest | undefined): number {
  return (m?.layers ?? []).reduce((s, l) => s + l.size, 0);
}

export function listRow(
  repo: string,
  digest: Sha256Digest,
  tags: string[],
  kitfile: Kitfile | undefined,
  bytes: number,
): ListRow {
  return {
    repo,
    digest,
    tags,
    modelName: kitfile?.package.name ?? '',
    size: formatSize(bytes),
    author: kitfile?.package.authors?.[0] ?? '',
    bytes,
  };
}
