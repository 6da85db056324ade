// Registry auth against real registries: distribution with htpasswd Basic auth, distribution
// behind a token server (which records the scopes it is asked for), TLS from a test CA with and
// without client certificates; `cairn login`/`logout` as the built CLI; and no secret in any
// output, passing or failing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, repositoryScope } from '../../src/oci/registry/auth.js';
import {
  cairnCredentialsFile,
  createCredentialSource,
  staticCredentialSource,
} from '../../src/oci/registry/credentials.js';
import { createDispatcher } from '../../src/oci/registry/dispatcher.js';
import type { Credential, RegistryOptions } from '../../src/oci/registry/types.js';
import { makeFakeHelper } from './cred-helper.js';
import {
  HAVE_OPENSSL,
  HAVE_REGISTRY,
  makeTls,
  startRegistry,
  startTokenServer,
  type RunningRegistry,
  type TlsFiles,
  type TokenServer,
} from './harness.js';

const CAIRN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'cairn');
const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
const runnable = (HAVE_REGISTRY && HAVE_OPENSSL) || required;
const HAVE_SCRIPT = fs.existsSync('/usr/bin/script');

const BASIC_USER = 'alice';
const BASIC_PASS = 'basic-pw-7f3a91c2';
const TOKEN_USER = 'bob';
const TOKEN_PASS = 'token-pw-52be07d4';
const WRONG_PASS = 'wrong-pw-e1d0c9aa';
/** Every secret of this file; no command output may contain one (tokens are added as issued). */
const secrets = [BASIC_PASS, TOKEN_PASS, WRONG_PASS];
const outputs: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI with `input` on stdin (a pipe, so never a TTY). */
function cairn(args: string[], home: string, input = '', env: NodeJS.ProcessEnv = {}) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN, ...args], {
      env: { ...process.env, CAIRN_HOME: home, HOME: home, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      outputs.push(stdout, stderr);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const home = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-auth-home-'));

const options = (o: Partial<RegistryOptions> = {}): RegistryOptions => ({
  plainHttp: true,
  tlsVerify: true,
  env: {},
  ...o,
});

/** One request the way the transport makes it: header, 401 → challenge → retry once. */
async function authorised(
  registry: RunningRegistry,
  creds: Credential | undefined,
  method: 'GET' | 'POST',
  urlPath: string,
  scopes: string[],
  authorizer = createAuthorizer(
    registry.host,
    options(),
    { dispatcher: createDispatcher(options()) },
    creds === undefined ? { get: () => Promise.resolve(undefined) } : staticCredentialSource(creds),
  ),
): Promise<{ status: number; retried: boolean; authorizer: typeof authorizer }> {
  let retried = false;
  for (;;) {
    const header = await authorizer.header(scopes);
    const res = await request(`${registry.url}${urlPath}`, {
      method,
      headers: header === undefined ? {} : { authorization: header },
    });
    await res.body.dump();
    const www = res.headers['www-authenticate'];
    if (res.statusCode !== 401 || typeof www !== 'string' || retried) {
      return { status: res.statusCode, retried, authorizer };
    }
    retried = true;
    if (!(await authorizer.challenge(www, scopes))) {
      return { status: 401, retried, authorizer };
    }
  }
}

describe.skipIf(!runnable)('registry auth against real registries', () => {
  let basic: RunningRegistry;
  let tokens: TokenServer;
  let bearer: RunningRegistry;
  let tls: TlsFiles;
  let tlsBasic: RunningRegistry;
  let mtls: RunningRegistry;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    basic = await startRegistry({ htpasswd: { [BASIC_USER]: BASIC_PASS } });
    stops.push(basic.stop);
    tokens = await startTokenServer({ users: { [TOKEN_USER]: TOKEN_PASS } });
    stops.push(tokens.stop);
    bearer = await startRegistry({ token: tokens });
    stops.push(bearer.stop);
    tls = makeTls();
    tlsBasic = await startRegistry({ tls, htpasswd: { [BASIC_USER]: BASIC_PASS } });
    stops.push(tlsBasic.stop);
    mtls = await startRegistry({ tls, requireClientCert: true });
    stops.push(mtls.stop);
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  describe('the Authorizer', () => {
    it('answers a Basic challenge with the credential, and gives up when it is refused', async () => {
      const ok = await authorised(
        basic,
        { username: BASIC_USER, password: BASIC_PASS },
        'GET',
        '/v2/',
        [],
      );
      expect(ok).toMatchObject({ status: 200, retried: true });
      // Known to want Basic now: the next request carries it without a round trip.
      expect(await ok.authorizer.header([])).toMatch(/^Basic /);
      const wrong = await authorised(
        basic,
        { username: BASIC_USER, password: WRONG_PASS },
        'GET',
        '/v2/',
        [],
      );
      expect(wrong.status).toBe(401);
      const none = await authorised(basic, undefined, 'GET', '/v2/', []);
      expect(none.status).toBe(401);
    });

    it('fetches a Bearer token for exactly the scopes asked for, then reuses it', async () => {
      const before = tokens.requests.length;
      const scopes = [repositoryScope('org/m', ['pull', 'push'])];
      const creds = { username: TOKEN_USER, password: TOKEN_PASS };
      const start = await authorised(bearer, creds, 'POST', '/v2/org/m/blobs/uploads/', scopes);
      expect(start.status).toBe(202);
      expect(tokens.requests.slice(before)).toEqual([
        {
          method: 'GET',
          scopes: ['repository:org/m:pull,push'],
          service: tokens.service,
          via: 'basic',
          user: TOKEN_USER,
          status: 200,
        },
      ]);
      // Same scopes: the cached token; new scopes: one more token request, no extra 401.
      expect(await start.authorizer.header(scopes)).toMatch(/^Bearer /);
      const mount = [
        repositoryScope('org/m2', ['pull', 'push']),
        repositoryScope('org/m', ['pull']),
      ];
      expect(await start.authorizer.header(mount)).toMatch(/^Bearer /);
      expect(tokens.requests.slice(before + 1).map((r) => r.scopes)).toEqual([
        ['repository:org/m2:pull,push', 'repository:org/m:pull'],
      ]);
    });

    it('asks anonymously without a credential, and stops when the fresh token is not enough', async () => {
      const before = tokens.requests.length;
      const scopes = [repositoryScope('org/m', ['pull', 'push'])];
      const push = await authorised(bearer, undefined, 'POST', '/v2/org/m/blobs/uploads/', scopes);
      expect(push).toMatchObject({ status: 401, retried: true });
      expect(tokens.requests.slice(before).map((r) => [r.via, r.user])).toEqual([
        ['anonymous', undefined],
      ]);
      // A wrong password: the token endpoint says 401, the challenge says "no use retrying".
      const wrong = await authorised(
        bearer,
        { username: TOKEN_USER, password: WRONG_PASS },
        'POST',
        '/v2/org/m/blobs/uploads/',
        scopes,
      );
      expect(wrong.status).toBe(401);
      expect(tokens.requests.at(-1)).toMatchObject({ via: 'basic', status: 401 });
    });

    it('lets concurrent first requests retry on one token, and refuses a fresh token that was not enough', async () => {
      const before = tokens.requests.length;
      const scopes = [repositoryScope('org/c', ['pull', 'push'])];
      const authorizer = createAuthorizer(
        bearer.host,
        options(),
        { dispatcher: createDispatcher(options()) },
        { get: () => Promise.resolve(undefined) },
      );
      const post = async (header: string | undefined) => {
        const res = await request(`${bearer.url}/v2/org/c/blobs/uploads/`, {
          method: 'POST',
          headers: header === undefined ? {} : { authorization: header },
        });
        await res.body.dump();
        return { status: res.statusCode, www: String(res.headers['www-authenticate']) };
      };
      // Two requests leave before any token exists; both come back 401.
      const [a, b] = await Promise.all([post(undefined), post(undefined)]);
      expect([a.status, b.status]).toEqual([401, 401]);
      expect(await authorizer.challenge(a.www, scopes)).toBe(true);
      expect(await authorizer.challenge(b.www, scopes)).toBe(true);
      expect(tokens.requests.length - before).toBe(1);
      // The anonymous token lacks push: distribution says insufficient_scope, and that is final.
      const retry = await post(await authorizer.header(scopes));
      expect(retry.status).toBe(401);
      expect(retry.www).toContain('error="insufficient_scope"');
      expect(await authorizer.challenge(retry.www, scopes)).toBe(false);
      expect(tokens.requests.length - before).toBe(1);
    });

    it('turns a failing token endpoint into "cannot authorise" rather than a retry loop', async () => {
      tokens.failWith(500);
      try {
        const res = await authorised(
          bearer,
          { username: TOKEN_USER, password: TOKEN_PASS },
          'GET',
          '/v2/',
          [],
        );
        expect(res).toMatchObject({ status: 401, retried: true });
      } finally {
        tokens.failWith(undefined);
      }
    });

    it('uses the OAuth2 refresh-token grant for an identity token', async () => {
      const res = await request(tokens.realm, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          username: TOKEN_USER,
          password: TOKEN_PASS,
          client_id: 'test',
          access_type: 'offline',
          service: tokens.service,
        }).toString(),
      });
      const { refresh_token: refresh } = (await res.body.json()) as { refresh_token: string };
      secrets.push(refresh);
      const before = tokens.requests.length;
      const scopes = [repositoryScope('org/id', ['pull', 'push'])];
      const creds = { username: '<token>', password: refresh };
      const start = await authorised(bearer, creds, 'POST', '/v2/org/id/blobs/uploads/', scopes);
      expect(start.status).toBe(202);
      expect(tokens.requests.slice(before)).toEqual([
        {
          method: 'POST',
          scopes: ['repository:org/id:pull,push'],
          service: tokens.service,
          via: 'refresh_token',
          user: TOKEN_USER,
          status: 200,
        },
      ]);
    });

    it('keeps a token until expires_in (60 s when absent), then fetches a new one', async () => {
      const shortLived = await startTokenServer({
        users: { [TOKEN_USER]: TOKEN_PASS },
        expiresIn: null,
      });
      stops.push(shortLived.stop);
      const r = await startRegistry({ token: shortLived });
      stops.push(r.stop);
      let t = Date.now();
      const authorizer = createAuthorizer(
        r.host,
        options(),
        { dispatcher: createDispatcher(options()) },
        staticCredentialSource({ username: TOKEN_USER, password: TOKEN_PASS }),
        { clock: () => t },
      );
      const scopes = [repositoryScope('org/x', ['pull'])];
      const first = await authorised(
        r,
        undefined,
        'GET',
        '/v2/org/x/tags/list',
        scopes,
        authorizer,
      );
      expect(first.status).toBe(404); // authorised; the repository does not exist
      const token = await authorizer.header(scopes);
      t += 45_000;
      expect(await authorizer.header(scopes)).toBe(token);
      expect(shortLived.requests).toHaveLength(1);
      t += 10_000; // 55 s: too close to 60 to send
      const renewed = await authorizer.header(scopes);
      expect(shortLived.requests).toHaveLength(2);
      expect(renewed).toMatch(/^Bearer /);
      expect(renewed).not.toBe(token);
      secrets.push(...shortLived.issued);
    });

    it('refuses a non-http realm, and credentials for a plain-http realm on another host', async () => {
      const creds = staticCredentialSource({ username: TOKEN_USER, password: TOKEN_PASS });
      const authorizer = () =>
        createAuthorizer(
          bearer.host,
          options(),
          { dispatcher: createDispatcher(options()) },
          creds,
        );
      await expect(
        authorizer().challenge('Bearer realm="file:///etc/passwd",service="x"', []),
      ).rejects.toThrow(/unusable realm/);
      const elsewhere = 'Bearer realm="http://127.0.0.2:9/token",service="x"';
      const refused = authorizer().challenge(elsewhere, []);
      await expect(refused).rejects.toThrow(/will not send your credentials there/);
      await expect(refused).rejects.not.toThrow(TOKEN_PASS);
    });

    it('finds the credential through a Docker credHelpers helper', async () => {
      const helper = makeFakeHelper();
      helper.put(basic.host, BASIC_USER, BASIC_PASS);
      const h = home();
      fs.mkdirSync(path.join(h, '.docker'));
      fs.writeFileSync(
        path.join(h, '.docker', 'config.json'),
        JSON.stringify({ credHelpers: { [basic.host]: helper.name } }),
      );
      const env = { HOME: h, CAIRN_HOME: h, PATH: `${helper.dir}:${process.env.PATH ?? ''}` };
      const authorizer = createAuthorizer(
        basic.host,
        options({ env }),
        { dispatcher: createDispatcher(options()) },
        createCredentialSource(env),
      );
      const res = await authorised(basic, undefined, 'GET', '/v2/', [], authorizer);
      expect(res.status).toBe(200);
      expect(helper.calls()).toEqual([{ action: 'get', input: basic.host }]);
    });
  });

  describe('cairn login and logout', () => {
    it('logs in with --password-stdin, stores 0600 base64 auths, and logs out', async () => {
      const h = home();
      const login = await cairn(
        ['login', basic.host, '--plain-http', '-u', BASIC_USER, '--password-stdin'],
        h,
        `${BASIC_PASS}\n`,
      );
      expect(login).toMatchObject({ code: 0 });
      expect(login.stdout).toContain(`Login Succeeded: ${basic.host}`);
      const file = cairnCredentialsFile({ CAIRN_HOME: h });
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        auths: Record<string, { auth: string }>;
      };
      expect(Buffer.from(stored.auths[basic.host]?.auth ?? '', 'base64').toString()).toBe(
        `${BASIC_USER}:${BASIC_PASS}`,
      );
      const out = await cairn(['--json', 'logout', basic.host], h);
      expect(out.code).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({ registry: basic.host, file, removed: true });
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ auths: {} });
      const again = await cairn(['logout', basic.host], h);
      expect(again.stdout).toContain(`Not logged in to ${basic.host}`);
    });

    it('refuses a wrong password: non-zero, names the registry, stores nothing', async () => {
      const h = home();
      const res = await cairn(
        ['login', basic.host, '--plain-http', '-u', BASIC_USER, '-p', WRONG_PASS],
        h,
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`${basic.host} refused the login of ${BASIC_USER}`);
      expect(res.stderr).toContain(`cairn login ${basic.host}`);
      expect(fs.existsSync(cairnCredentialsFile({ CAIRN_HOME: h }))).toBe(false);
      const json = await cairn(
        ['--json', 'login', basic.host, '--plain-http', '-u', BASIC_USER, '--password-stdin'],
        h,
        WRONG_PASS,
      );
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'login-failed' } });
    });

    it('asks for nothing when stdin is not a terminal: a clear error instead', async () => {
      const h = home();
      const res = await cairn(['login', basic.host, '--plain-http', '-u', BASIC_USER], h);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('stdin is not a terminal');
      expect(res.stderr).toContain('--password-stdin');
    });

    it.skipIf(!HAVE_SCRIPT && !required)(
      'asks for the username and password on a terminal, without echoing the password',
      async () => {
        const h = home();
        const cmd = `${process.execPath} ${CAIRN} login ${basic.host} --plain-http`;
        const child = spawn('script', ['-qec', cmd, '/dev/null'], {
          env: { ...process.env, CAIRN_HOME: h, HOME: h },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let screen = '';
        const seen = (text: string): Promise<void> =>
          new Promise((resolve) => {
            const check = (): void => {
              if (screen.includes(text)) resolve();
              else setTimeout(check, 20);
            };
            check();
          });
        child.stdout.on('data', (c: Buffer) => (screen += c.toString()));
        const closed = new Promise<number>((resolve) =>
          child.on('close', (code) => {
            resolve(code ?? -1);
          }),
        );
        await seen('Username: ');
        child.stdin.write(`${BASIC_USER}\n`);
        await seen('Password: ');
        child.stdin.write(`${BASIC_PASS}\r`);
        await seen('Login Succeeded');
        child.stdin.end();
        expect(await closed).toBe(0);
        outputs.push(screen);
        expect(screen).toContain(BASIC_USER); // echoed, as typed
        expect(screen).not.toContain(BASIC_PASS);
        expect(fs.existsSync(cairnCredentialsFile({ CAIRN_HOME: h }))).toBe(true);
      },
    );

    it('logs in through the token server and keeps its identity token, not the password', async () => {
      const h = home();
      const before = tokens.requests.length;
      const res = await cairn(
        ['--json', 'login', bearer.host, '--plain-http', '-u', TOKEN_USER, '--password-stdin'],
        h,
        TOKEN_PASS,
      );
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({
        registry: bearer.host,
        username: TOKEN_USER,
        authRequired: true,
        identityToken: true,
      });
      expect(tokens.requests.slice(before)).toMatchObject([
        { method: 'GET', scopes: [], via: 'basic', user: TOKEN_USER },
      ]);
      const file = cairnCredentialsFile({ CAIRN_HOME: h });
      const text = fs.readFileSync(file, 'utf8');
      expect(text).not.toContain(TOKEN_PASS);
      const entry = (JSON.parse(text) as { auths: Record<string, unknown> }).auths[bearer.host];
      expect(entry).toEqual({ identitytoken: expect.any(String) as unknown });
      // The stored identity token authorises a push through the OAuth2 refresh grant.
      const env = { CAIRN_HOME: h, HOME: h };
      const authorizer = createAuthorizer(
        bearer.host,
        options({ env }),
        { dispatcher: createDispatcher(options()) },
        createCredentialSource(env),
      );
      const scopes = [repositoryScope('org/after-login', ['pull', 'push'])];
      const push = await authorised(
        bearer,
        undefined,
        'POST',
        '/v2/org/after-login/blobs/uploads/',
        scopes,
        authorizer,
      );
      expect(push.status).toBe(202);
      expect(tokens.requests.at(-1)).toMatchObject({ via: 'refresh_token', user: TOKEN_USER });
      const wrong = await cairn(
        ['login', bearer.host, '--plain-http', '-u', TOKEN_USER, '--password-stdin'],
        h,
        WRONG_PASS,
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`cairn login ${bearer.host}`);
    });

    it('trusts a private CA with --ca-file, or nothing with --tls-verify=false', async () => {
      const h = home();
      const args = ['login', tlsBasic.host, '-u', BASIC_USER, '--password-stdin'];
      const untrusted = await cairn(args, h, BASIC_PASS);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toContain(`cannot reach https://${tlsBasic.host}/v2/`);
      expect(untrusted.stderr).toContain('--ca-file');
      expect((await cairn([...args, '--ca-file', tls.caCert], h, BASIC_PASS)).code).toBe(0);
      expect((await cairn([...args, '--tls-verify=false'], h, BASIC_PASS)).code).toBe(0);
      const wrong = await cairn([...args, '--ca-file', tls.caCert], h, WRONG_PASS);
      expect(wrong.code).toBe(1);
    });

    it('fetches tokens from an https realm with the same TLS flags as the registry', async () => {
      const secureTokens = await startTokenServer({ users: { [TOKEN_USER]: TOKEN_PASS }, tls });
      stops.push(secureTokens.stop);
      expect(secureTokens.realm).toMatch(/^https:/);
      const r = await startRegistry({ tls, token: secureTokens });
      stops.push(r.stop);
      const h = home();
      const args = ['login', r.host, '-u', TOKEN_USER, '--password-stdin'];
      expect((await cairn([...args, '--ca-file', tls.caCert], h, TOKEN_PASS)).code).toBe(0);
      expect((await cairn([...args, '--tls-verify=false'], h, TOKEN_PASS)).code).toBe(0);
      expect(secureTokens.requests.map((q) => [q.user, q.status])).toEqual([
        [TOKEN_USER, 200],
        [TOKEN_USER, 200],
      ]);
      secrets.push(...secureTokens.issued);
    });

    it('presents a client certificate when the registry requires one', async () => {
      const h = home();
      const args = ['login', mtls.host, '-u', 'anyone', '-p', 'unused', '--ca-file', tls.caCert];
      const without = await cairn(args, h);
      expect(without.code).toBe(1);
      expect(without.stderr).toContain(`cannot reach https://${mtls.host}/v2/`);
      const withCert = await cairn(
        ['--json', ...args, '--cert-file', tls.clientCert, '--key-file', tls.clientKey],
        h,
      );
      expect(withCert.code).toBe(0);
      // The registry asks for no login beyond the certificate; Cairn says so.
      expect(JSON.parse(withCert.stdout)).toMatchObject({ authRequired: false });
    });

    it('never prints a password or token, in any output above', () => {
      secrets.push(...tokens.issued);
      const basics = [BASIC_PASS, TOKEN_PASS, WRONG_PASS].map((p) =>
        Buffer.from(`${BASIC_USER}:${p}`).toString('base64'),
      );
      expect(outputs.length).toBeGreaterThan(10);
      for (const text of outputs) {
        for (const s of [...secrets, ...basics]) expect(text).not.toContain(s);
      }
    });
  });
});
