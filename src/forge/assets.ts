/**
 * The local files and data URIs a report's images point at, read into named, hashed assets
 * ready for a forge to publish. Missing files are reported, not fatal (CML logs and leaves them).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import { findImages, isLocal, type ImageLink } from './markdown-images.js';

/** One file to publish. */
export interface Asset {
  /** the destinations in the Markdown that name it (several spellings may share one file) */
  destinations: string[];
  /** a file name safe in URLs: `[A-Za-z0-9._-]` only */
  name: string;
  /** sha256 of the bytes, hex */
  sha256: string;
  bytes: Uint8Array;
}

export interface CollectedAssets {
  links: ImageLink[];
  assets: Asset[];
  /** local image destinations that name no readable file */
  missing: string[];
}

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/svg+xml': '.svg',
  'image/webp': '.webp',
};

const DATA_URI = /^data:(image\/[a-z0-9.+-]+);base64,([a-z0-9+/=\s]+)$/i;

function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return cleaned === '' ? 'image' : cleaned;
}

async function readLocal(file: string): Promise<Uint8Array | undefined> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** The report's images, read relative to `baseDir` (the Markdown file's folder). */
export async function collectAssets(markdown: string, baseDir: string): Promise<CollectedAssets> {
  const links = findImages(markdown);
  const bySha = new Map<string, Asset>();
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const { destination } of links) {
    if (seen.has(destination)) continue;
    seen.add(destination);
    let bytes: Uint8Array | undefined;
    let name: string;
    const data = DATA_URI.exec(destination);
    if (data !== null) {
      bytes = Buffer.from(data[2] ?? '', 'base64');
      name = `image${EXTENSIONS[(data[1] ?? '').toLowerCase()] ?? ''}`;
    } else if (isLocal(destination)) {
      let rel = destination.replace(/[?#].*$/, '');
      try {
        rel = decodeURIComponent(rel);
      } catch {
        // Not percent-encoded after all: take it as written.
      }
      bytes = await readLocal(path.resolve(baseDir, rel));
      name = path.basename(rel);
      if (bytes === undefined) {
        missing.push(destination);
        continue;
      }
    } else continue;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const known = bySha.get(sha256);
    if (known !== undefined) known.destinations.push(destination);
    else bySha.set(sha256, { destinations: [destination], name: safeName(name), sha256, bytes });
  }
  return { links, assets: [...bySha.values()], missing };
}
