/**
 * Test helpers for ModelKit scenarios: temp stores, the built CLI as a child process, hand-made
 * tar archives (including hostile ones) and ModelKits assembled blob by blob.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LocalStore } from '../../src/oci/layout.js';
import { recordManifest } from '../../src/oci/local-repo.js';
import { manifestJson, type Descriptor, type ImageManifest } from '../../src/oci/manifest.js';
import {
  MANIFEST_MEDIA_TYPE,
  MODELKIT_ARTIFACT_TYPE,
  MODELKIT_CONFIG_TYPE,
} from '../../src/oci/media-types.js';
import { parseReference } from '../../src/oci/reference.js';
import { BLOCK, TRAILER, encodeHeader, padding } from '../../src/modelkit/tar-header.js';

const run = promisify(execFile);
export const CAIRN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'cairn');
export const HAVE_BUILD = fs.existsSync(
  path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js'),
);

export function tempDir(prefix = 'cairn-mk-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

/** Every file under `root` (relative, sorted), for before/after comparisons. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `cairn` with an isolated store under `home`. */
export async function cairn(
  args: string[],
  o: { cwd: string; home: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CAIRN, ...args], {
      cwd: o.cwd,
      env: {
        ...process.env,
        CAIRN_HOME: o.home,
        KITOPS_HOME: path.join(o.home, 'kitops'),
        ...o.env,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

/** A raw tar header with any typeflag (for hostile archives). */
export function rawHeader(name: string, typeflag: string, size: number, linkname = ''): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'latin1');
  block.write('0001750\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block[156] = typeflag.charCodeAt(0);
  block.write(linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

export type TarItem =
  | { name: string; data: string | Buffer; mode?: number }
  | { name: string; dir: true }
  | { raw: Buffer };

/** A tar archive as Cairn (and kit) would write it, from items in order. */
export function makeTar(items: TarItem[], trailer = true): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    if ('raw' in item) {
      parts.push(item.raw);
    } else if ('dir' in item) {
      parts.push(encodeHeader({ name: item.name, type: 'dir', mode: 0o755, size: 0 }));
    } else {
      const data = typeof item.data === 'string' ? Buffer.from(item.data) : item.data;
      parts.push(
        encodeHeader({
          name: item.name,
          type: 'file',
          mode: item.mode ?? 0o644,
          size: data.length,
        }),
      );
      parts.push(data, Buffer.alloc(padding(data.length)));
    }
  }
  if (trailer) parts.push(TRAILER);
  return Buffer.concat(parts);
}

export interface LayerSpec {
  mediaType: string;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

/** Stores a ModelKit assembled by hand and tags it `ref`; returns the manifest digest. */
export async function storeModelKit(
  store: LocalStore,
  ref: string,
  o: {
    config: string;
    configMediaType?: string;
    layers: LayerSpec[];
    artifactType?: string | null;
    layersNull?: boolean;
    annotations?: Record<string, string>;
  },
): Promise<string> {
  const layers: Descriptor[] = [];
  for (const l of o.layers) {
    const { digest, size } = await store.putBlob(l.bytes);
    layers.push({
      mediaType: l.mediaType,
      digest,
      size,
      ...(l.annotations === undefined ? {} : { annotations: l.annotations }),
    });
  }
  const config = await store.putBlob(o.config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: {
      mediaType: o.configMediaType ?? MODELKIT_CONFIG_TYPE,
      digest: config.digest,
      size: config.size,
    },
    layers: o.layersNull === true ? null : layers,
    ...(o.annotations === undefined ? {} : { annotations: o.annotations }),
  };
  if (o.artifactType !== null) manifest.artifactType = o.artifactType ?? MODELKIT_ARTIFACT_TYPE;
  const stored = await store.putBlob(manifestJson(manifest));
  await recordManifest(
    store,
    { mediaType: MANIFEST_MEDIA_TYPE, digest: stored.digest, size: stored.size },
    [parseReference(ref).ref],
  );
  return stored.digest;
}

export async function openTempStore(): Promise<{ home: string; store: LocalStore }> {
  const home = tempDir('cairn-home-');
  return { home, store: await LocalStore.open(path.join(home, 'storage')) };
}
