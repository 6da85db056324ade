/**
 * Registry authorisation: reads `WWW-Authenticate` challenges, answers Basic ones with the
 * stored credential and Bearer ones with tokens from the realm (Docker's token protocol, or the
 * OAuth2 refresh-token grant for identity tokens), cached per scope set until they expire.
 * Secrets never leave this module except in `Authorization` headers.
 */
import { CairnError } from '../../core/errors.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { createCredentialSource } from './credentials.js';
import { request } from './undici-lite.js';
import type {
  Authorizer,
  AuthTransport,
  Credential,
  CredentialSource,
  RegistryOptions,
} from './types.js';

export { parseChallenges, type Challenge } from './challenge.js';

/** seconds a token lives when the realm does not say, and the least assumed (as Docker does) */
const MIN_EXPIRY = 60;
/** ms before expiry at which a cached token is no longer handed out */
const EXPIRY_MARGIN = 10_000;
/** ms within which a token the registry rejects counts as fresh: fetching again won't help */
const FRESH = 10_000;

/** `repository:<name>:<actions>`, the scope a request on one repository needs. */
export function repositoryScope(name: string, actions: readonly string[]): string {
  return `repository:${name}:${actions.join(',')}`;
}

/** The error for a 401 the Authorizer could not get past; it names the registry, never a secret. */
export function unauthorizedError(registry: string, method: string, url: string): CairnError {
  return new CairnError(
    'registry-unauthorized',
    `${registry} refused access: ${method} ${url} answered 401 Unauthorized`,
    { hint: `Log in with: cairn login ${registry}` },
  );
}

/** Merges scopes on the same resource (`repository:a:pull` + `repository:a:push`), in order. */
export function mergeScopes(...lists: (readonly string[])[]): string[] {
  const actions = new Map<string, string[]>();
  for (const scope of lists.flat()) {
    const at = scope.lastIndexOf(':');
    const resource = at > 0 ? scope.slice(0, at) : scope;
    const list = actions.get(resource) ?? [];
    for (const a of at > 0 ? scope.slice(at + 1).split(',') : []) {
      if (a !== '' && !list.includes(a)) list.push(a);
    }
    actions.set(resource, list);
  }
  return [...actions].map(([resource, list]) =>
    list.length > 0 ? `${resource}:${list.join(',')}` : resource,
  );
}

interface Token {
  value: string;
  /** ms since the epoch */
  expiresAt: number;
  fetchedAt: number;
}

interface BearerRealm {
  realm: URL;
  service: string | undefined;
}

const basicHeader = (c: Credential): string =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;

const hostnameOf = (registry: string): string => new URL(`http://${registry}`).hostname;

/** Optional behaviour of an Authorizer beyond the contract. */
export interface AuthorizerExtras {
  /** ms since the epoch; tests pass a clock they can move */
  clock?: () => number;
  /**
   * Asks the realm for an identity (refresh) token with the password (`offline_token=true`, as
   * `docker login` does) and hands over any it returns, so login can store it instead.
   */
  onIdentityToken?: (token: string) => void;
}

/** An Authorizer for `registry` (`host[:port]`) that fetches tokens over `transport`. */
export function createAuthorizer(
  registry: string,
  _opts: RegistryOptions,
  transport: AuthTransport,
  creds: CredentialSource,
  extra: AuthorizerExtras = {},
): Authorizer {
  let scheme: 'none' | 'basic' | 'bearer' = 'none';
  let bearer: BearerRealm | undefined;
  const tokens = new Map<string, Token>();
  const pending = new Map<string, Promise<Token | undefined>>();
  const now = extra.clock ?? Date.now;

  /** The realm may get the credential: https, or plain http on the registry's own host. */
  const mayReceiveSecrets = (realm: URL): boolean =>
    realm.protocol === 'https:' || realm.hostname === hostnameOf(registry);

  async function fetchToken(scopes: string[]): Promise<Token | undefined> {
    if (bearer === undefined) return undefined;
    const { realm, service } = bearer;
    const credential = await creds.get(registry);
    if (credential !== undefined && !mayReceiveSecrets(realm)) {
      throw new CairnError(
        'registry-auth-realm',
        `${registry} sends logins to the token service ${realm.origin} over plain HTTP on another host; Cairn will not send your credentials there`,
        { hint: `Ask the registry's operator to serve its token realm over HTTPS.` },
      );
    }
    const url = new URL(realm);
    let res;
    try {
      if (credential?.username === '<token>') {
        // An identity token is an OAuth2 refresh token: the POST grant, not Basic.
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: credential.password,
          client_id: 'cairn',
          scope: scopes.join(' '),
        });
        if (service !== undefined) form.set('service', service);
        res = await request(transport.dispatcher, url.href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        });
      } else {
        if (service !== undefined) url.searchParams.set('service', service);
        for (const s of scopes) url.searchParams.append('scope', s);
        if (credential !== undefined && extra.onIdentityToken !== undefined) {
          url.searchParams.set('offline_token', 'true');
          url.searchParams.set('client_id', 'cairn');
        }
        res = await request(transport.dispatcher, url.href, {
          method: 'GET',
          headers: credential === undefined ? {} : { authorization: basicHeader(credential) },
        });
      }
    } catch (error) {
      throw new CairnError(
        'registry-auth-realm',
        `cannot reach the token service ${realm.origin}${realm.pathname} of ${registry}: ${error instanceof Error ? error.message : String(error)}`,
        { hint: 'Check the network, and --ca-file / --tls-verify for its certificate.' },
      );
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    const body: unknown = await res.body.json().catch(() => undefined);
    const answer =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const value =
      typeof answer.token === 'string' && answer.token !== ''
        ? answer.token
        : typeof answer.access_token === 'string'
          ? answer.access_token
          : '';
    if (value === '') return undefined;
    if (typeof answer.refresh_token === 'string' && answer.refresh_token !== '') {
      extra.onIdentityToken?.(answer.refresh_token);
    }
    const seconds = Math.max(
      typeof answer.expires_in === 'number' ? answer.expires_in : 0,
      MIN_EXPIRY,
    );
    const fetchedAt = now();
    return { value, fetchedAt, expiresAt: fetchedAt + seconds * 1000 };
  }

  /** A live token for `scopes`, fetched once even when many requests ask at the same time. */
  function token(scopes: string[]): Promise<Token | undefined> {
    const key = scopes.join(' ');
    const cached = tokens.get(key);
    if (cached !== undefined && cached.expiresAt - EXPIRY_MARGIN > now()) {
      return Promise.resolve(cached);
    }
    let inflight = pending.get(key);
    if (inflight === undefined) {
      inflight = fetchToken(scopes)
        .then((t) => {
          if (t === undefined) tokens.delete(key);
          else tokens.set(key, t);
          return t;
        })
        .finally(() => pending.delete(key));
      pending.set(key, inflight);
    }
    return inflight;
  }

  async function onBearer(c: Challenge, scopes: readonly string[]): Promise<boolean> {
    const raw = c.params.realm ?? '';
    let realm: URL;
    try {
      realm = new URL(raw);
    } catch {
      realm = new URL('invalid:');
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new CairnError(
        'registry-auth-realm',
        `${registry} asked for a Bearer token from an unusable realm ${JSON.stringify(raw)}`,
        { hint: 'The token realm must be an http(s) URL; report this to the registry operator.' },
      );
    }
    const all = mergeScopes(
      scopes,
      (c.params.scope ?? '').split(' ').filter((s) => s !== ''),
    );
    const key = all.join(' ');
    const sameRealm = scheme === 'bearer' && bearer?.realm.href === realm.href;
    const cached = sameRealm ? tokens.get(key) : undefined;
    if (cached !== undefined && cached.expiresAt - EXPIRY_MARGIN > now()) {
      // RFC 6750 §3: `error=` only when the request carried a token. Without it, this request
      // went out before the token came (concurrent requests): retry with the cached one.
      if (c.params.error === undefined) return true;
      // A token this fresh was refused (insufficient_scope): the account lacks the access.
      if (now() - cached.fetchedAt < FRESH) return false;
    }
    tokens.delete(key);
    scheme = 'bearer';
    bearer = { realm, service: c.params.service };
    return (await token(all)) !== undefined;
  }

  /** Basic: retry while there is a credential; the caller answers one challenge per request. */
  async function onBasic(): Promise<boolean> {
    const credential = await creds.get(registry);
    if (credential === undefined || credential.username === '<token>') return false;
    scheme = 'basic';
    return true;
  }

  return {
    header: async (scopes) => {
      switch (scheme) {
        case 'none':
          return undefined;
        case 'basic': {
          const credential = await creds.get(registry);
          if (credential === undefined) return undefined;
          return basicHeader(credential);
        }
        case 'bearer': {
          const t = await token(mergeScopes(scopes));
          return t === undefined ? undefined : `Bearer ${t.value}`;
        }
      }
    },
    challenge: async (wwwAuthenticate, scopes) => {
      const challenges = parseChallenges(wwwAuthenticate);
      const bearerChallenge = challenges.find((c) => c.scheme === 'bearer');
      if (bearerChallenge !== undefined) return onBearer(bearerChallenge, scopes);
      if (challenges.some((c) => c.scheme === 'basic')) return onBasic();
      return false;
    },
  };
}

/**
 * The Authorizer a command uses for `registry`: credentials from Cairn's credentials file, then
 * Docker's config (`opts.env`), tokens fetched over the command's own `dispatcher`.
 */
export function registryAuthorizer(
  registry: string,
  opts: RegistryOptions,
  dispatcher: AuthTransport['dispatcher'],
): Authorizer {
  return createAuthorizer(registry, opts, { dispatcher }, createCredentialSource(opts.env));
}
