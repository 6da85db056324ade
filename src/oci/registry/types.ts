/**
 * The contracts between the registry transport (client.ts, transfer.ts) and registry auth
 * (auth.ts, credentials.ts): how a registry is reached and how requests get authorised.
 */
import type { Dispatcher } from 'undici';

/** How to reach one registry: transport security, and where credentials come from. */
export interface RegistryOptions {
  /** Plain HTTP instead of HTTPS (`--plain-http`). */
  plainHttp: boolean;
  /** Verify the server's certificate (`--tls-verify=false` turns this off). */
  tlsVerify: boolean;
  /** Extra CA bundle (PEM), trusted besides the system roots. */
  caFile?: string;
  /** Client certificate and key (PEM) for registries that ask for one. */
  certFile?: string;
  keyFile?: string;
  /** Environment for credential lookup (HOME, DOCKER_CONFIG, CAIRN_HOME, PATH for helpers). */
  env: NodeJS.ProcessEnv;
}

/** A username and secret; `username: '<token>'` carries an identity (refresh) token. */
export interface Credential {
  username: string;
  password: string;
}

/** Looks up the credential stored for a registry host (`host[:port]`). */
export interface CredentialSource {
  get(registry: string): Promise<Credential | undefined>;
}

/**
 * Authorises requests to one registry. Scopes are Docker token scopes such as
 * `repository:org/model:pull,push`; a cross-repository mount asks for two.
 */
export interface Authorizer {
  /** The `Authorization` header value for a request needing `scopes`, if one is known. */
  header(scopes: readonly string[]): Promise<string | undefined>;
  /**
   * Learns from a 401's `WWW-Authenticate` header (fetching a Bearer token, or switching to
   * Basic); true when retrying the request may now succeed, false when nothing more can be tried.
   */
  challenge(wwwAuthenticate: string, scopes: readonly string[]): Promise<boolean>;
}

/** What auth needs from the transport to fetch tokens over the same TLS settings. */
export interface AuthTransport {
  dispatcher: Dispatcher;
}
