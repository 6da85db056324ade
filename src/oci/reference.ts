/**
 * ModelKit references, parsed and normalised exactly as kit's `util.ParseReference` does
 * (KitOps §3): the one module that mints `OciReference` values.
 */
import { CairnError } from '../core/errors.js';
import { parseSha256, type Sha256Digest } from './digest.js';

declare const refBrand: unique symbol;

/** A normalised reference: registry, repository and a tag or digest. */
export type OciReference = {
  readonly registry: string;
  /** lowercase path components; `_` for untagged local ModelKits */
  readonly repository: string;
  /** the tag, when the reference names one (and no digest) */
  readonly tag: string | undefined;
  readonly digest: Sha256Digest | undefined;
} & { readonly [refBrand]: true };

export const DEFAULT_REGISTRY = 'localhost';
export const UNTAGGED_REPOSITORY = '_';
export const DEFAULT_TAG = 'latest';

const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST_ANY = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export class ReferenceError extends CairnError {
  override readonly name = 'ReferenceError';
  constructor(ref: string, why: string) {
    super('reference-invalid', `invalid reference "${ref}": ${why}`, {
      hint: 'Write it as [registry/]repository[:tag][@sha256:<hex>], e.g. myorg/model:v1.',
    });
  }
}

export interface ParsedReference {
  ref: OciReference;
  /** further tags given after commas: `repo:t1,t2,t3` */
  extraTags: string[];
}

/** Parses `input` as kit does; throws {@link ReferenceError} when it is not a reference. */
export function parseReference(input: string): ParsedReference {
  const plain = parseSha256(input);
  if (plain !== undefined) {
    return { ref: mint(DEFAULT_REGISTRY, UNTAGGED_REPOSITORY, undefined, plain), extraTags: [] };
  }
  const parts = input.split('/');
  const first = parts[0] ?? '';
  let registry: string;
  let rest: string;
  if (
    parts.length === 1 ||
    !(first.includes('.') || first.includes(':') || first === 'localhost')
  ) {
    registry = DEFAULT_REGISTRY;
    rest = input;
  } else {
    registry = first;
    rest = parts.slice(1).join('/');
  }
  const [base = '', ...extraTags] = rest.split(',');
  let repoAndTag = base;
  let digest: Sha256Digest | undefined;
  const at = base.indexOf('@');
  if (at >= 0) {
    const d = base.slice(at + 1);
    if (!DIGEST_ANY.test(d)) throw new ReferenceError(input, `"${d}" is not a digest`);
    const sha = parseSha256(d);
    if (sha === undefined) throw new ReferenceError(input, 'only sha256 digests are supported');
    digest = sha;
    repoAndTag = base.slice(0, at);
  }
  let repository = repoAndTag;
  let tag: string | undefined;
  const colon = repoAndTag.lastIndexOf(':');
  if (colon >= 0 && !repoAndTag.slice(colon).includes('/')) {
    repository = repoAndTag.slice(0, colon);
    tag = repoAndTag.slice(colon + 1);
    if (!TAG.test(tag)) throw new ReferenceError(input, `"${tag}" is not a valid tag`);
  }
  if (repository === '') throw new ReferenceError(input, 'the repository is empty');
  if (!REPOSITORY.test(repository)) {
    throw new ReferenceError(
      input,
      repository !== repository.toLowerCase()
        ? 'the repository must be lowercase'
        : `"${repository}" is not a valid repository name`,
    );
  }
  for (const t of extraTags) {
    if (!TAG.test(t)) throw new ReferenceError(input, `"${t}" is not a valid tag`);
  }
  // `repo:tag@digest` keeps only the digest, as oras does.
  return {
    ref: mint(registry, repository, digest === undefined ? tag : undefined, digest),
    extraTags,
  };
}

/** True when a Kitfile path is a ModelKit reference (contains `:` or `@` and parses). */
export function isModelKitReference(p: string): boolean {
  if (!p.includes(':') && !p.includes('@')) return false;
  try {
    parseReference(p);
    return true;
  } catch {
    return false;
  }
}

export function withTag(ref: OciReference, tag: string): OciReference {
  if (!TAG.test(tag)) throw new ReferenceError(tag, 'not a valid tag');
  return mint(ref.registry, ref.repository, tag, undefined);
}

export function withDigest(ref: OciReference, digest: Sha256Digest): OciReference {
  return mint(ref.registry, ref.repository, undefined, digest);
}

/** A reference for a repository, with the tag `latest` when none was given. */
export function orLatest(ref: OciReference): OciReference {
  return ref.tag === undefined && ref.digest === undefined ? withTag(ref, DEFAULT_TAG) : ref;
}

export function repositoryOf(ref: OciReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Full form: `registry/repository[:tag|@digest]`. */
export function formatReference(ref: OciReference): string {
  const suffix =
    ref.digest !== undefined ? `@${ref.digest}` : ref.tag !== undefined ? `:${ref.tag}` : '';
  return `${repositoryOf(ref)}${suffix}`;
}

/** As kit displays a repository: `localhost/` and `_` hidden. */
export function displayRepository(registry: string, repository: string): string {
  const repo = repository === UNTAGGED_REPOSITORY ? '' : repository;
  return registry === DEFAULT_REGISTRY ? repo : `${registry}/${repo}`;
}

export function displayReference(ref: OciReference): string {
  const repo = displayRepository(ref.registry, ref.repository);
  const suffix =
    ref.digest !== undefined ? `@${ref.digest}` : ref.tag !== undefined ? `:${ref.tag}` : '';
  return repo === '' ? (ref.digest ?? suffix) : `${repo}${suffix}`;
}

/** Splits a stored `registry/repository` back (the inverse of {@link repositoryOf}). */
export function splitRepository(full: string): { registry: string; repository: string } {
  const slash = full.indexOf('/');
  if (slash < 0) return { registry: DEFAULT_REGISTRY, repository: full };
  return { registry: full.slice(0, slash), repository: full.slice(slash + 1) };
}

export function referenceFor(
  registry: string,
  repository: string,
  tag: string | undefined,
  digest: Sha256Digest | undefined,
): OciReference {
  return mint(registry, repository, tag, digest);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

function mint(
  registry: string,
  repository: string,
  tag: string | undefined,
  digest: Sha256Digest | undefined,
): OciReference {
  return { registry, repository, tag, digest } as OciReference;
}

/** A reference that must name a registry (push, pull and the remote commands); `what` says who asks. */
export function remoteReference(input: string, what: string): OciReference {
  const { ref, extraTags } = parseReference(input);
  if (ref.registry === DEFAULT_REGISTRY) {
    throw new CairnError('registry-required', `${what} ${input}: registry is required`, {
      hint: 'Name the registry, e.g. registry.example.com/org/model:v1 (localhost means the local store).',
    });
  }
  if (extraTags.length > 0) {
    throw new CairnError('bad-reference', `${what} ${input}: give one tag`, {
      hint: 'Push or pull one reference at a time.',
    });
  }
  return ref.digest === undefined ? orLatest(ref) : ref;
}
