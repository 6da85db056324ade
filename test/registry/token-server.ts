/**
 * A Docker token server for tests (a real node:http server on loopback): it checks Basic
 * credentials, the service and every scope it is asked for, records each request, and issues
 * RS256 JWTs that distribution 2.8 verifies through the signing cert in the `x5c` header.
 * `GET realm?service=&scope=…` is the Docker protocol; `POST` with `grant_type=password` or
 * `refresh_token` is the OAuth2 variant (https://distribution.github.io/distribution/spec/auth/).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TlsFiles } from './tls.js';

export interface TokenServerOptions {
  /** Accounts the server accepts (user → password). */
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** seconds; `null` leaves `expires_in` out of the answer (clients assume 60 s) */
  expiresIn?: number | null;
  /** Actions an anonymous client gets on any repository (default none: an empty access list). */
  anonymousActions?: string[];
  /** Serve HTTPS with this server cert (makeTls) instead of plain HTTP. */
  tls?: TlsFiles;
}

/** One request the server received, as it understood it. */
export interface TokenRequest {
  method: 'GET' | 'POST';
  /** every scope asked for, in order */
  scopes: string[];
  service: string | undefined;
  /** `basic` credentials, a `password` or `refresh_token` grant, or none */
  via: 'basic' | 'password' | 'refresh_token' | 'anonymous';
  /** The account the server authenticated, if any. */
  user?: string;
  /** 200 with a token, or the error status sent */
  status: number;
}

export interface TokenServer {
  /** `http://127.0.0.1:<port>/token` (`https://` with `tls`) */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the signing cert: the registry's `rootcertbundle`. */
  rootCertBundle: string;
  readonly requests: readonly TokenRequest[];
  /** Every token and refresh token issued (for leak checks). */
  readonly issued: readonly string[];
  /** Answer every request with this status until called again with undefined. */
  failWith(status: number | undefined): void;
  stop: () => Promise<void>;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:org/m:pull,push` → its parts; undefined when malformed. */
function parseScope(scope: string): Scope | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = scope.slice(last + 1).split(',');
  if (actions.some((a) => !/^[a-z*]+$/.test(a))) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-token-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'token.key',
      '-out',
      'token.pem',
      '-subj',
      '/CN=cairn-test-token-issuer',
      '-days',
      '2',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const key = fs.readFileSync(path.join(dir, 'token.key'), 'utf8');
  const certPem = fs.readFileSync(path.join(dir, 'token.pem'), 'utf8');
  const certDer = certPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const service = o.service ?? 'cairn-test-registry';
  const issuer = o.issuer ?? 'cairn-test-issuer';
  const requests: TokenRequest[] = [];
  const issued: string[] = [];
  const refreshTokens = new Map<string, string>();
  let failStatus: number | undefined;

  const jwt = (user: string, scopes: Scope[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = {
      iss: issuer,
      sub: user,
      aud: service,
      exp: now + (o.expiresIn ?? 300),
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access: scopes,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const form = method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const scopes =
      method === 'POST'
        ? (form.get('scope') ?? '').split(' ').filter((s) => s !== '')
        : form.getAll('scope');
    const record: TokenRequest = {
      method,
      scopes,
      service: form.get('service') ?? undefined,
      via: 'anonymous',
      status: 200,
    };
    requests.push(record);
    const answer = (status: number, body: unknown): void => {
      record.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    const deny = (status: number, error: string): void => {
      answer(status, { error, error_description: error });
    };
    if (failStatus !== undefined) {
      deny(failStatus, 'injected failure');
      return;
    }
    if (url.pathname !== '/token') {
      deny(404, 'not found');
      return;
    }
    if (record.service !== service) {
      deny(400, `unknown service ${String(record.service)}`);
      return;
    }
    const parsed = scopes.map(parseScope);
    if (parsed.some((s) => s === undefined)) {
      deny(400, 'invalid_scope');
      return;
    }

    let user: string | undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (method === 'GET' && basic?.[1] !== undefined) {
      const text = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = text.indexOf(':');
      const name = text.slice(0, colon);
      record.via = 'basic';
      if (colon < 0 || o.users[name] !== text.slice(colon + 1)) {
        deny(401, 'unauthorized');
        return;
      }
      user = name;
    } else if (method === 'POST') {
      const grant = form.get('grant_type');
      if (form.get('client_id') === null) {
        deny(400, 'invalid_request: client_id');
        return;
      }
      if (grant === 'password') {
        record.via = 'password';
        const name = form.get('username') ?? '';
        if (o.users[name] !== form.get('password')) {
          deny(401, 'invalid_grant');
          return;
        }
        user = name;
      } else if (grant === 'refresh_token') {
        record.via = 'refresh_token';
        user = refreshTokens.get(form.get('refresh_token') ?? '');
        if (user === undefined) {
          deny(401, 'invalid_grant');
          return;
        }
      } else {
        deny(400, 'unsupported_grant_type');
        return;
      }
    }
    if (user !== undefined) record.user = user;

    const access = parsed.flatMap((s) => {
      if (s === undefined) return [];
      const allowed = user !== undefined ? s.actions : (o.anonymousActions ?? []);
      const actions = s.actions.filter((a) => allowed.includes(a));
      return actions.length > 0 ? [{ type: s.type, name: s.name, actions }] : [];
    });
    const token = jwt(user ?? '', access);
    issued.push(token);
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      issued_at: new Date().toISOString(),
    };
    if (o.expiresIn !== null) body.expires_in = o.expiresIn ?? 300;
    const offline =
      form.get('access_type') === 'offline' || url.searchParams.get('offline_token') === 'true';
    if (user !== undefined && offline) {
      const refresh = randomBytes(16).toString('hex');
      refreshTokens.set(refresh, user);
      issued.push(refresh);
      body.refresh_token = refresh;
    }
    answer(200, body);
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch(() => {
      res.destroy();
    });
  };
  const server =
    o.tls === undefined
      ? http.createServer(listener)
      : https.createServer(
          { cert: fs.readFileSync(o.tls.serverCert), key: fs.readFileSync(o.tls.serverKey) },
          listener,
        );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    realm: `${o.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: path.join(dir, 'token.pem'),
    requests,
    issued,
    failWith: (status) => {
      failStatus = status;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
