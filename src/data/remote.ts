/**
 * Data remotes: cache objects copied to and from a folder laid out as DVC lays out a local
 * remote (`<url>/files/md5/xx/…`, DVC 2.x objects at `<url>/xx/…`), so `dvc pull` reads what
 * Cairn pushed and the other way round. Only local folders (or `file://`) for now.
 *
 * Both directions check everything first (every object present at the source, `.dir`
 * manifests read and their members listed) and only then copy; each object lands through a
 * temp file renamed into place, so a failure leaves whole objects or none.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../core/config.js';
import { isDirMd5, parseMd5, type Md5Hex } from '../core/digest.js';
import { CairnError, DigestMismatchError, errnoCode } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { mapLimit } from '../core/limit.js';
import {
  cacheLayout,
  commitTempSync,
  ensureDirSync,
  legacyLayout,
  objectPath,
  tempDir,
  tempObjectPath,
  type CacheLayout,
} from './cache.js';
import { hashLegacySync } from './hash.js';
import { parseManifest } from './manifest.js';

export interface DataRemote {
  name: string;
  /** absolute folder */
  dir: string;
}

/** The remote `-r NAME` picks, else `core.remote`; unknown, unset and non-folder ones refused. */
export function resolveDataRemote(config: Config, requested: string | undefined): DataRemote {
  const known = Object.keys(config.remote);
  const define =
    'Define one with `cairn config set remote.NAME /path/to/folder` (and `cairn config set core.remote NAME` to make it the default).';
  const name = requested ?? config.core.remote;
  if (name === undefined) {
    throw new CairnError('data-remote-unset', 'No data remote given, and core.remote is not set', {
      hint:
        known.length > 0
          ? `Pass -r with one of ${known.join(', ')}, or set a default with \`cairn config set core.remote NAME\`; --no-cache skips the data.`
          : `${define} Or pass --no-cache to move the git refs only.`,
    });
  }
  const url = config.remote[name];
  if (url === undefined) {
    throw new CairnError(
      'data-remote-unknown',
      `No data remote named '${name}'${requested === undefined ? ' (core.remote)' : ''}`,
      {
        hint:
          known.length > 0
            ? `Known data remotes: ${known.join(', ')}. ${define}`
            : `No data remote is configured. ${define}`,
      },
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new CairnError(
      'data-remote-unsupported',
      `Data remote '${name}' is ${url}: Cairn moves data to local folders only so far`,
      {
        hint: 'Point it at a folder (a mounted share works): `cairn config set remote.NAME /path`.',
      },
    );
  }
  return { name, dir: url };
}

/** One cache object something refers to. */
export interface ObjectRef {
  md5: Md5Hex;
  /** a DVC 2.x entry (no `hash: md5`): md5-dos2unix, in the legacy layout */
  legacy: boolean;
  /** what refers to it, for messages: `model.bin (dvc.lock of experiment 'keep')` */
  where: string;
}

export interface TransferOptions {
  /** objects copied at once */
  jobs: number;
  sink?: EventSink;
  signal?: AbortSignal;
}

export interface TransferCounts {
  /** distinct objects the refs need, `.dir` members included */
  objects: number;
  /** copied by this call */
  transferred: number;
  /** already at the destination */
  present: number;
  /** bytes copied */
  bytes: number;
}

/** A remote folder seen as a cache: same layout, its own temp folder. */
function remoteLayout(remote: DataRemote): CacheLayout {
  return cacheLayout(remote.dir, undefined, false);
}

function layoutOf(base: CacheLayout, o: ObjectRef): CacheLayout {
  return o.legacy ? legacyLayout(base) : base;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function keyOf(o: ObjectRef): string {
  return `${o.legacy ? 'legacy:' : ''}${o.md5}`;
}

/** The objects once each, keeping the first place that names one. */
function distinct(objects: readonly ObjectRef[]): ObjectRef[] {
  const seen = new Map<string, ObjectRef>();
  for (const o of objects) if (!seen.has(keyOf(o))) seen.set(keyOf(o), o);
  return [...seen.values()];
}

/**
 * `.dir` objects followed to their members. `read` answers a manifest's bytes, or undefined
 * when it is nowhere to be found (then the `.dir` object is reported missing by the caller).
 */
async function withMembers(
  objects: readonly ObjectRef[],
  read: (o: ObjectRef) => Promise<Buffer | undefined>,
): Promise<ObjectRef[]> {
  const all = distinct(objects);
  const members: ObjectRef[] = [];
  for (const o of all) {
    if (!isDirMd5(o.md5)) continue;
    const bytes = await read(o);
    if (bytes === undefined) continue;
    for (const entry of parseManifest(bytes, `the .dir object ${o.md5} of ${o.where}`)) {
      const md5 = parseMd5(entry.md5);
      if (md5 === undefined || isDirMd5(md5)) continue; // parseManifest refuses these
      members.push({ md5, legacy: o.legacy, where: `${o.where}/${entry.relpath}` });
    }
  }
  // Members before their manifests: a `.dir` object present means its members arrived first.
  return distinct([...members, ...all.filter((o) => !isDirMd5(o.md5)), ...all]);
}

function missingError(missing: readonly ObjectRef[], where: string, hint: string): CairnError {
  const shown = missing
    .slice(0, 5)
    .map((o) => `${o.md5} (${o.where})`)
    .join(', ');
  const more = missing.length > 5 ? ` and ${String(missing.length - 5)} more` : '';
  return new CairnError(
    'object-missing',
    `${String(missing.length)} object${missing.length === 1 ? '' : 's'} missing ${where}: ${shown}${more}`,
    { hint },
  );
}

function progress(sink: EventSink | undefined, phase: string, total: number) {
  let done = 0;
  let bytes = 0;
  const started = Date.now();
  sink?.({ type: 'progress', phase, done, total, bytes });
  return {
    step(size: number): void {
      done += 1;
      bytes += size;
      sink?.({ type: 'progress', phase, done, total, bytes });
    },
    end(): number {
      sink?.({ type: 'phase-done', phase, done, bytes, ms: Date.now() - started });
      return bytes;
    },
  };
}

/**
 * Copies the objects (and the members of `.dir` ones) from the cache to the remote. Every
 * object must be in the cache; nothing is copied otherwise.
 */
export async function pushObjects(
  cache: CacheLayout,
  remote: DataRemote,
  objects: readonly ObjectRef[],
  options: TransferOptions,
): Promise<TransferCounts> {
  const dest = remoteLayout(remote);
  const all = await withMembers(objects, async (o) => {
    try {
      return await fsp.readFile(objectPath(layoutOf(cache, o), o.md5));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  });
  const missing: ObjectRef[] = [];
  const todo: ObjectRef[] = [];
  for (const o of all) {
    if (!(await exists(objectPath(layoutOf(cache, o), o.md5)))) missing.push(o);
    else if (!(await exists(objectPath(layoutOf(dest, o), o.md5)))) todo.push(o);
  }
  if (missing.length > 0) {
    throw missingError(
      missing,
      `from the cache (${cache.dir})`,
      'Nothing was pushed. Pull them from where they were produced (`cairn exp pull` with -r), or run the experiment again; --no-cache pushes the git refs only.',
    );
  }
  return copyObjects(all, todo, `push to ${remote.name}`, options, async (o) => {
    const to = layoutOf(dest, o);
    const from = objectPath(layoutOf(cache, o), o.md5);
    await place(to, o.md5, async (tmp) => {
      await fsp.copyFile(from, tmp, fs.constants.COPYFILE_FICLONE);
      await fsp.chmod(tmp, to.fileMode);
    });
    return objectPath(to, o.md5);
  });
}

/** md5 of a file as the object's layout hashes it. */
async function copyVerified(from: string, tmp: string, o: ObjectRef, mode: number): Promise<void> {
  let actual: string;
  if (o.legacy) {
    await fsp.copyFile(from, tmp, fs.constants.COPYFILE_FICLONE);
    actual = hashLegacySync(tmp).md5;
  } else {
    const hash = createHash('md5');
    await pipeline(
      fs.createReadStream(from),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      fs.createWriteStream(tmp, { flags: 'wx', mode }),
    );
    actual = hash.digest('hex');
  }
  const expected = o.md5.replace(/\.dir$/, '');
  if (actual !== expected) {
    throw new DigestMismatchError(`${from} (${o.where})`, expected, actual, {
      hint: 'The object on the data remote is corrupt: push it again from a cache that has it intact.',
    });
  }
  await fsp.chmod(tmp, mode);
}

/**
 * Copies the objects (and the members of `.dir` ones) from the remote into the cache, each
 * checked against its digest. Every object must be on the remote (or already in the cache);
 * nothing is copied otherwise.
 */
export async function pullObjects(
  cache: CacheLayout,
  remote: DataRemote,
  objects: readonly ObjectRef[],
  options: TransferOptions,
): Promise<TransferCounts> {
  const src = remoteLayout(remote);
  const all = await withMembers(objects, async (o) => {
    for (const base of [cache, src]) {
      const file = objectPath(layoutOf(base, o), o.md5);
      let bytes: Buffer;
      try {
        bytes = await fsp.readFile(file);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') continue;
        throw error;
      }
      if (base === src && !o.legacy) {
        const actual = createHash('md5').update(bytes).digest('hex');
        if (`${actual}.dir` !== o.md5)
          throw new DigestMismatchError(`${file} (${o.where})`, o.md5, `${actual}.dir`, {
            hint: 'The manifest on the data remote is corrupt: push it again from a cache that has it intact.',
          });
      }
      return bytes;
    }
    return undefined;
  });
  const missing: ObjectRef[] = [];
  const todo: ObjectRef[] = [];
  for (const o of all) {
    if (await exists(objectPath(layoutOf(cache, o), o.md5))) continue;
    if (await exists(objectPath(layoutOf(src, o), o.md5))) todo.push(o);
    else missing.push(o);
  }
  if (missing.length > 0) {
    throw missingError(
      missing,
      `on data remote '${remote.name}' (${remote.dir})`,
      'Nothing was pulled. Push them there from the machine that ran the experiment (`cairn exp push GIT_REMOTE -r NAME`), or pick another data remote with -r; --no-cache pulls the git refs only.',
    );
  }
  return copyObjects(all, todo, `pull from ${remote.name}`, options, async (o) => {
    const to = layoutOf(cache, o);
    const from = objectPath(layoutOf(src, o), o.md5);
    await place(to, o.md5, (tmp) => copyVerified(from, tmp, o, to.fileMode));
    return objectPath(to, o.md5);
  });
}

/**
 * Copies `todo` (of `all`) `options.jobs` at a time; `copy` places one object and answers
 * where it now is. The counts say how many were copied and how many were there already.
 */
async function copyObjects(
  all: readonly ObjectRef[],
  todo: readonly ObjectRef[],
  label: string,
  options: TransferOptions,
  copy: (o: ObjectRef) => Promise<string>,
): Promise<TransferCounts> {
  const bar = progress(options.sink, label, todo.length);
  await mapLimit(
    todo,
    options.jobs,
    async (o) => {
      bar.step((await fsp.stat(await copy(o))).size);
    },
    options.signal,
  );
  const bytes = bar.end();
  return {
    objects: all.length,
    transferred: todo.length,
    present: all.length - todo.length,
    bytes,
  };
}

/** Writes an object through a temp file (`write` fills it) renamed into place; none on failure. */
async function place(
  to: CacheLayout,
  md5: string,
  write: (tmp: string) => Promise<void>,
): Promise<void> {
  ensureDirSync(tempDir(to));
  const tmp = tempObjectPath(to);
  try {
    await write(tmp);
    commitTempSync(to, tmp, md5);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
}
