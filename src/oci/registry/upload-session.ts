/**
 * Upload sessions on a registry: opening one (or a cross-repository mount), asking how far one
 * got, and remembering the newest `Location` of each in `ingest/<hex>.upload` so that a later
 * push can continue it.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fs.js';
import { digestHex, type Sha256Digest } from '../digest.js';
import type { LocalStore } from '../layout.js';
import { resolveLocation, type RegistryClient } from './client.js';
import { pullScope, pushScope } from './manifests.js';

interface SessionFile {
  registry: string;
  repository: string;
  location: string;
}

export function sessionPath(store: LocalStore, digest: Sha256Digest): string {
  return path.join(store.root, 'ingest', `${digestHex(digest)}.upload`);
}

/** POST with `mount=` and `from=`: 'mounted', or the Location of the upload session it opened. */
export async function tryMount(
  client: RegistryClient,
  repository: string,
  digest: Sha256Digest,
  from: string,
): Promise<{ mounted: true } | { mounted: false; location: string }> {
  const url = new URL(client.url(repository, 'blobs/uploads/'));
  url.searchParams.set('mount', digest);
  url.searchParams.set('from', from);
  const res = await client.send({
    method: 'POST',
    url: url.toString(),
    scopes: [pushScope(repository), pullScope(from)],
    headers: { 'content-length': '0' },
    ok: [201, 202],
    retry: true,
  });
  await res.body.dump();
  return res.status === 201
    ? { mounted: true }
    : { mounted: false, location: resolveLocation(res, `an upload to ${repository}`) };
}

export async function startSession(client: RegistryClient, repository: string): Promise<string> {
  const res = await client.send({
    method: 'POST',
    url: client.url(repository, 'blobs/uploads/'),
    scopes: [pushScope(repository)],
    headers: { 'content-length': '0' },
    ok: [202],
    retry: true,
  });
  await res.body.dump();
  return resolveLocation(res, `an upload to ${repository}`);
}

/** The next byte the registry expects for a session, or undefined when the session is gone. */
export async function uploadOffset(
  client: RegistryClient,
  repository: string,
  location: string,
): Promise<number | undefined> {
  const res = await client.send({
    method: 'GET',
    url: location,
    scopes: [pushScope(repository)],
    ok: [204, 200, 400, 404, 416],
    retry: true,
  });
  await res.body.dump();
  if (res.status !== 204 && res.status !== 200) return undefined;
  const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.range ?? '');
  // `0-0` is what distribution reports for an empty session as well as for one byte.
  return range?.[1] === undefined ? 0 : Number(range[1]) === 0 ? 0 : Number(range[1]) + 1;
}

export async function readSession(
  file: string,
  registry: string,
  repository: string,
): Promise<string | undefined> {
  try {
    const s = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<SessionFile>;
    return s.registry === registry && s.repository === repository && typeof s.location === 'string'
      ? s.location
      : undefined;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') await fsp.rm(file, { force: true });
    return undefined;
  }
}

/** Remembers the newest Location of an upload session. */
export async function saveSession(
  file: string,
  registry: string,
  repository: string,
  location: string,
): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ registry, repository, location }));
}
