/**
 * `cairn login` and `cairn logout`: check a username and password against the registry's
 * `/v2/` through the same Authorizer pushes and pulls use, then keep them in Cairn's
 * credentials file (or the helper it names); logout forgets them.
 */
import { CairnError } from '../core/errors.js';
import { createAuthorizer } from '../oci/registry/auth.js';
import {
  eraseCredential,
  hostOfKey,
  staticCredentialSource,
  storeCredential,
} from '../oci/registry/credentials.js';
import { createDispatcher, registryBaseUrl } from '../oci/registry/dispatcher.js';
import type { Credential, RegistryOptions } from '../oci/registry/types.js';
import { request } from '../oci/registry/undici-lite.js';
import type { CommandContext } from './context.js';

/** The terminal `login` may ask on: prompts go to `output`, answers come from `input`. */
export interface LoginTerminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream;
}

export interface LoginOptions {
  username?: string;
  password?: string;
  /** read the password from `terminal.input` (all of it, one trailing newline dropped) */
  passwordStdin: boolean;
  registry: RegistryOptions;
  terminal: LoginTerminal;
}

export interface LoginResult {
  registry: string;
  username: string;
  /** the credentials file written */
  file: string;
  /** `docker-credential-<helper>` holding the secret, when the file names one */
  helper?: string;
  /** false when the registry let `/v2/` through without asking for credentials */
  authRequired: boolean;
  /** true when the token realm gave an identity token, stored instead of the password */
  identityToken: boolean;
}

export interface LogoutResult {
  registry: string;
  file: string;
  helper?: string;
  /** false when no credential was stored for the registry */
  removed: boolean;
}

/** `host[:port]` of a registry argument (`https://host:5000/` and `host:5000` alike). */
export function registryHost(arg: string): string {
  const host = hostOfKey(arg.trim());
  if (host === '' || /[\s@]/.test(host)) {
    throw new CairnError('registry-name', `not a registry host: ${JSON.stringify(arg)}`, {
      hint: 'Give a host and optional port, such as ghcr.io or localhost:5000.',
    });
  }
  return host;
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks one question on the terminal; `hidden` echoes nothing (raw mode, for passwords). */
function ask(t: LoginTerminal, question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const raw = hidden && t.input.setRawMode !== undefined;
    if (raw) t.input.setRawMode?.(true); // before the prompt, so nothing typed after it echoes
    t.output.write(question);
    const finish = (error?: Error): void => {
      t.input.removeListener('data', onData);
      if (raw) t.input.setRawMode?.(false);
      t.input.pause();
      if (hidden) t.output.write('\n');
      if (error === undefined) resolve(answer);
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') {
          finish();
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish(new CairnError('login-cancelled', 'login cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    t.input.on('data', onData);
    t.input.resume();
  });
}

async function credentialFrom(registry: string, o: LoginOptions): Promise<Credential> {
  if (o.passwordStdin && o.password !== undefined) {
    throw new CairnError('login-input', '--password and --password-stdin cannot be used together');
  }
  const tty = o.terminal.input.isTTY === true;
  let username = o.username;
  let password = o.password;
  if (o.passwordStdin) {
    if (username === undefined) {
      throw new CairnError('login-input', '--password-stdin needs the username too', {
        hint: `Run: cairn login ${registry} -u USER --password-stdin`,
      });
    }
    password = (await readAll(o.terminal.input)).replace(/\r?\n$/, '');
  }
  if ((username === undefined || password === undefined) && !tty) {
    throw new CairnError(
      'login-input',
      `cairn login ${registry} needs a username and password, and stdin is not a terminal to ask on`,
      { hint: `Run: cairn login ${registry} -u USER --password-stdin (password on stdin)` },
    );
  }
  username ??= (await ask(o.terminal, 'Username: ', false)).trim();
  password ??= await ask(o.terminal, 'Password: ', true);
  if (username === '' || password === '') {
    throw new CairnError('login-input', 'the username and password must not be empty');
  }
  return { username, password };
}

/**
 * GET `/v2/` with the credential through the Authorizer; true when a challenge asked for it,
 * false when the registry needs none. Throws when the registry refuses it.
 */
export async function verifyCredential(
  registry: string,
  credential: Credential,
  opts: RegistryOptions,
  onIdentityToken?: (token: string) => void,
): Promise<boolean> {
  const dispatcher = createDispatcher(opts, 2);
  const authorizer = createAuthorizer(
    registry,
    opts,
    { dispatcher },
    staticCredentialSource(credential),
    onIdentityToken === undefined ? {} : { onIdentityToken },
  );
  const url = `${registryBaseUrl(registry, opts)}/v2/`;
  let challenged = false;
  try {
    for (let attempt = 0; ; attempt++) {
      const header = await authorizer.header([]);
      let res;
      try {
        res = await request(dispatcher, url, {
          method: 'GET',
          headers: header === undefined ? {} : { authorization: header },
        });
      } catch (error) {
        throw new CairnError(
          'registry-unreachable',
          `cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`,
          {
            hint: 'Check the host and port; --plain-http for an HTTP registry, --ca-file or --tls-verify=false for a private CA, --cert-file and --key-file if it wants a client certificate.',
          },
        );
      }
      await res.body.dump();
      if (res.statusCode === 200) return challenged;
      const www = res.headers['www-authenticate'];
      const challenge = Array.isArray(www) ? www.join(', ') : www;
      if (res.statusCode === 401 && challenge !== undefined) {
        challenged = true;
        // One challenge, one retry: a second 401 means the credential itself was refused.
        if (attempt === 0 && (await authorizer.challenge(challenge, []))) continue;
        throw new CairnError(
          'login-failed',
          `${registry} refused the login of ${credential.username} (GET ${url} answered 401 Unauthorized)`,
          { hint: `Check the username and password, then run cairn login ${registry} again.` },
        );
      }
      throw new CairnError(
        'registry-status',
        `GET ${url} answered ${res.statusCode}: ${registry} does not look like an OCI registry`,
        { hint: 'Check the registry host and port.' },
      );
    }
  } finally {
    await dispatcher.close();
  }
}

export async function login(
  ctx: CommandContext,
  registryArg: string,
  o: LoginOptions,
): Promise<LoginResult> {
  const registry = registryHost(registryArg);
  if (o.password !== undefined) {
    ctx.sink({
      type: 'warning',
      message:
        'a password given with -p can be seen in ps and shell history; prefer --password-stdin',
    });
  }
  const credential = await credentialFrom(registry, o);
  let identityToken: string | undefined;
  const authRequired = await verifyCredential(registry, credential, o.registry, (token) => {
    identityToken = token;
  });
  // Like docker login: an identity token from the realm is kept instead of the password.
  const stored =
    identityToken === undefined ? credential : { username: '<token>', password: identityToken };
  const where = await storeCredential(registry, stored, o.registry.env);
  return {
    registry,
    username: credential.username,
    ...where,
    authRequired,
    identityToken: identityToken !== undefined,
  };
}

export async function logout(
  _ctx: CommandContext,
  registryArg: string,
  registry: RegistryOptions,
): Promise<LogoutResult> {
  const host = registryHost(registryArg);
  return { registry: host, ...(await eraseCredential(host, registry.env)) };
}
