/**
 * One registry, spoken to over the OCI Distribution API: every request goes through `send`,
 * which authorises it (answering one 401 challenge), retries transient failures with backoff
 * when the request can be repeated whole, follows redirects, and turns error answers into a
 * `RegistryError` naming the method, the URL and the registry's own error code.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { CairnError } from '../../core/errors.js';
import {
  RegistryError,
  TransportError,
  describeFailure,
  failureCode,
  isCertificateFailure,
  isTransportFailure,
} from './errors.js';
import { DEFAULT_RETRY, backoffMs, transientStatus, type RetryPolicy } from './retry.js';
import { createDispatcher, registryBaseUrl } from './dispatcher.js';
import { unauthorizedError } from './auth.js';
import type { Authorizer, RegistryOptions } from './types.js';
import { request } from './undici-lite.js';

/** Manifest types asked for on every manifest request: distribution 404s without the OCI ones. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json;q=0.5',
  'application/vnd.docker.distribution.manifest.list.v2+json;q=0.5',
].join(', ');

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
export type RequestBody = string | Buffer | AsyncIterable<Buffer>;

export interface SendOptions {
  method: Method;
  url: string;
  /** token scopes, e.g. `repository:org/model:pull` */
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** made afresh for each attempt */
  body?: () => RequestBody;
  /** statuses that are answers rather than errors */
  ok: readonly number[];
  /** retry 429, 5xx and connection failures (only for requests that can be repeated whole) */
  retry?: boolean;
  signal?: AbortSignal;
}

export interface Response {
  status: number;
  /** the URL that answered (after redirects) */
  url: string;
  headers: Record<string, string | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** Sends no credentials; a 401 cannot be answered (the registry needs `cairn login`). */
export const anonymousAuthorizer: Authorizer = {
  header: () => Promise.resolve(undefined),
  challenge: () => Promise.resolve(false),
};

export interface ClientOptions {
  dispatcher?: Dispatcher;
  /** the Authorizer, made for the client's dispatcher (default: anonymous) */
  authorizer?: Authorizer | ((dispatcher: Dispatcher) => Authorizer);
  retry?: RetryPolicy;
}

export class RegistryClient {
  /** `host[:port]` as written in references */
  readonly registry: string;
  /** `https://host[:port]` (or http with --plain-http) */
  readonly base: string;
  readonly retry: RetryPolicy;
  readonly #dispatcher: Dispatcher;
  readonly #ownDispatcher: boolean;
  readonly #auth: Authorizer;

  constructor(registry: string, options: RegistryOptions, o: ClientOptions = {}) {
    this.registry = registry;
    this.base = registryBaseUrl(registry, options);
    this.#ownDispatcher = o.dispatcher === undefined;
    this.#dispatcher = o.dispatcher ?? createDispatcher(options, 16);
    this.#auth =
      typeof o.authorizer === 'function'
        ? o.authorizer(this.#dispatcher)
        : (o.authorizer ?? anonymousAuthorizer);
    this.retry = o.retry ?? DEFAULT_RETRY;
  }

  get dispatcher(): Dispatcher {
    return this.#dispatcher;
  }

  /** `<base>/v2/<repository>/<rest>` */
  url(repository: string, rest: string): string {
    return `${this.base}/v2/${repository}/${rest}`;
  }

  async close(): Promise<void> {
    if (this.#ownDispatcher) await this.#dispatcher.close();
  }

  /** Sends one request (see the file comment); throws RegistryError for unexpected statuses. */
  async send(o: SendOptions): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.#authorised(o);
      } catch (error) {
        if (o.retry === true && isTransportFailure(error) && attempt < this.retry.retries) {
          await sleep(backoffMs(attempt, this.retry), undefined, { signal: o.signal });
          continue;
        }
        throw error;
      }
      if (o.ok.includes(res.status)) return res;
      if (o.retry === true && transientStatus(res.status) && attempt < this.retry.retries) {
        await res.body.dump();
        await sleep(backoffMs(attempt, this.retry, res.headers['retry-after']), undefined, {
          signal: o.signal,
        });
        continue;
      }
      throw await this.errorOf(o.method, res);
    }
  }

  /** The RegistryError for an answer nobody expected (reads at most 64 KiB of its body). */
  async errorOf(method: string, res: Response): Promise<CairnError> {
    let text = '';
    if (method !== 'HEAD') {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        text += chunk.toString('utf8');
        if (text.length > 65_536) break;
      }
    }
    await res.body.dump().catch(() => undefined);
    let ociCode: string | undefined;
    let detail = text.trim().slice(0, 300);
    try {
      const parsed = JSON.parse(text) as {
        errors?: { code?: unknown; message?: unknown; detail?: unknown }[];
      };
      const first = parsed.errors?.[0];
      if (first !== undefined) {
        if (typeof first.code === 'string') ociCode = first.code;
        detail = typeof first.message === 'string' ? first.message : '';
        if (typeof first.detail === 'string' && first.detail !== '') detail += ` (${first.detail})`;
      }
    } catch {
      // not an OCI error body: keep the text
    }
    if (res.status === 401) return unauthorizedError(this.registry, method, res.url);
    if (res.status === 403) {
      return new RegistryError(
        {
          status: 403,
          method,
          url: res.url,
          ...(ociCode === undefined ? {} : { ociCode }),
          detail,
        },
        `Your credentials for ${this.registry} lack permission for this repository; check them with cairn login ${this.registry}.`,
      );
    }
    return new RegistryError({
      status: res.status,
      method,
      url: res.url,
      ...(ociCode === undefined ? {} : { ociCode }),
      detail,
    });
  }

  /** One attempt, answering a 401 challenge once. */
  async #authorised(o: SendOptions): Promise<Response> {
    const first = await this.#once(o, await this.#auth.header(o.scopes));
    if (first.status !== 401) return first;
    const challenge = first.headers['www-authenticate'];
    if (challenge === undefined || !(await this.#auth.challenge(challenge, o.scopes))) return first;
    await first.body.dump();
    return this.#once(o, await this.#auth.header(o.scopes));
  }

  /** One HTTP exchange, following up to 5 redirects (credentials stay with the registry's origin). */
  async #once(o: SendOptions, authorization: string | undefined): Promise<Response> {
    let url = o.url;
    const origin = new URL(this.base).origin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...o.headers };
      if (authorization !== undefined && new URL(url).origin === origin) {
        headers.authorization = authorization;
      }
      let res: Dispatcher.ResponseData;
      try {
        res = await request(this.#dispatcher, url, {
          method: o.method,
          headers,
          body: toBody(o.body?.()),
          ...(o.signal === undefined ? {} : { signal: o.signal }),
        });
      } catch (error) {
        if (o.signal?.aborted === true) throw error;
        const code = failureCode(error);
        const tls = isCertificateFailure(code);
        const refused = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
        throw new TransportError(
          tls ? 'registry-tls' : 'registry-unreachable',
          `${o.method} ${url}: ${describeFailure(error)}`,
          !tls && !refused,
          {
            cause: error,
            hint:
              code === 'ERR_SSL_WRONG_VERSION_NUMBER'
                ? `${this.registry} answered in plain HTTP, not TLS: pass --plain-http.`
                : tls
                  ? `The certificate of ${this.registry} is not trusted: pass --ca-file <pem> with its CA, or --tls-verify=false; --plain-http if it serves no TLS.`
                  : refused
                    ? `Check that ${this.registry} is running and the name is right${this.base.startsWith('https') ? ' (use --plain-http for a registry without TLS)' : ''}.`
                    : `The connection to ${this.registry} failed; try again.`,
          },
        );
      }
      const flat = flatten(res.headers);
      const location = flat.location;
      if (
        [301, 302, 303, 307, 308].includes(res.statusCode) &&
        location !== undefined &&
        (o.method === 'GET' || o.method === 'HEAD') &&
        hop < 5
      ) {
        await res.body.dump();
        url = new URL(location, url).toString();
        continue;
      }
      return { status: res.statusCode, url, headers: flat, body: res.body };
    }
  }
}

function toBody(b: RequestBody | undefined): string | Buffer | Readable | null {
  if (b === undefined) return null;
  return typeof b === 'string' || Buffer.isBuffer(b) ? b : Readable.from(b, { objectMode: false });
}

function flatten(h: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Resolves a `Location` header against the URL that sent it (Location is opaque otherwise). */
export function resolveLocation(res: Response, what: string): string {
  const location = res.headers.location;
  if (location === undefined || location === '') {
    throw new CairnError(
      'registry-protocol',
      `${res.url} answered ${res.status} without a Location for ${what}`,
      { hint: 'The registry does not follow the OCI Distribution protocol here.' },
    );
  }
  return new URL(location, res.url).toString();
}
