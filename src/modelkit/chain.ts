/**
 * ModelKit references in `model.path` (§1.5): the parent's layer paths are left out of this
 * pack; chains are at most 10 long and a cycle is an error.
 */
import { ManifestError } from '../core/errors.js';
import type { LocalStore } from '../oci/layout.js';
import { readManifest, resolveLocal } from '../oci/local-repo.js';
import { formatReference, isModelKitReference, parseReference } from '../oci/reference.js';
import { kitfileFromConfigJson, type Kitfile } from './kitfile.js';
import type { ParsedKitfile } from './kitfile-parse.js';
import { cleanPath, positionOf } from './kitfile-validate.js';

export const MAX_MODEL_REF_CHAIN = 10;

/** The Kitfile of a stored ModelKit (config blob, verified). */
export async function readStoredKitfile(store: LocalStore, reference: string): Promise<Kitfile> {
  const { ref } = parseReference(reference);
  const { desc } = await resolveLocal(store, ref);
  const manifest = await readManifest(store, desc);
  const config = await store.readBlob(manifest.config.digest, manifest.config.size);
  return kitfileFromConfigJson(config.toString('utf8'), `config ${manifest.config.digest}`);
}

export function localLayerPaths(k: Kitfile): string[] {
  const paths: (string | undefined)[] = [];
  if (k.model !== undefined && !isModelKitReference(k.model.path ?? '')) paths.push(k.model.path);
  for (const p of k.model?.parts ?? []) paths.push(p.path);
  for (const c of k.code ?? []) paths.push(c.path);
  for (const d of k.datasets ?? []) if (d.remotePath === undefined) paths.push(d.path);
  for (const d of k.docs ?? []) paths.push(d.path);
  for (const p of k.prompts ?? []) paths.push(p.path);
  return paths.map((p) => cleanPath(p ?? ''));
}

/** Layer paths of every ModelKit up the chain from `reference` (local store only). */
export async function resolveParentPaths(
  store: LocalStore,
  reference: string,
  parsed: ParsedKitfile,
): Promise<string[]> {
  const seen: string[] = [];
  const paths: string[] = [];
  let current: string | undefined = reference;
  const fail = (message: string, hint: string): never => {
    const p = positionOf(parsed, 'model.path');
    throw new ManifestError(parsed.file, p.line, p.col, message, { hint });
  };
  while (current !== undefined) {
    const key = formatReference(parseReference(current).ref);
    if (seen.includes(key)) {
      fail(
        `Found cycle in modelkit references: ${[...seen, key].join(' -> ')}`,
        'Break the cycle: a ModelKit cannot be its own ancestor.',
      );
    }
    seen.push(key);
    if (seen.length > MAX_MODEL_REF_CHAIN) {
      fail(
        `the chain of ModelKit references is longer than ${MAX_MODEL_REF_CHAIN}: ${seen.join(' -> ')}`,
        'Pack from a ModelKit nearer the base.',
      );
    }
    let parent: Kitfile;
    try {
      parent = await readStoredKitfile(store, current);
    } catch (error) {
      return fail(
        `model.path refers to ${current}, which cannot be read from the local store: ${(error as Error).message}`,
        'Pack or pull the base ModelKit first (remote resolution is not available yet).',
      );
    }
    paths.push(...localLayerPaths(parent));
    const next = parent.model?.path;
    current = next !== undefined && isModelKitReference(next) ? next : undefined;
  }
  return paths;
}
