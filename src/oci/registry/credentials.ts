/**
 * Registry credentials in Docker's config format: looked up in Cairn's own credentials file,
 * then in Docker's `config.json` (`credHelpers`, `credsStore` through `docker-credential-*`
 * helpers, and `auths`); written and erased by `cairn login` / `cairn logout`.
 */
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CairnError, errnoCode } from '../../core/errors.js';
import { readFileOrUndefined, writeFileAtomic } from '../../core/fs.js';
import type { Credential, CredentialSource } from './types.js';

/** The server URL Docker keys Docker Hub's credentials by. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The parts of a Docker config file Cairn reads; other keys are kept as they are. */
interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [key: string]: unknown;
}

/** Where a credential came from or went to: a file, and the helper that holds the secret. */
export interface CredentialLocation {
  file: string;
  /** `docker-credential-<helper>`, when the secret lives in a helper instead of the file */
  helper?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir();
}

/** `$CAIRN_HOME/credentials.json`, else `$XDG_DATA_HOME/cairn/…` or `~/.local/share/cairn/…`. */
export function cairnCredentialsFile(env: NodeJS.ProcessEnv): string {
  if (env.CAIRN_HOME !== undefined && env.CAIRN_HOME !== '') {
    return path.join(env.CAIRN_HOME, 'credentials.json');
  }
  const xdg =
    env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== ''
      ? env.XDG_DATA_HOME
      : path.join(homeDir(env), '.local', 'share');
  return path.join(xdg, 'cairn', 'credentials.json');
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  const dir =
    env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== ''
      ? env.DOCKER_CONFIG
      : path.join(homeDir(env), '.docker');
  return path.join(dir, 'config.json');
}

/** `host[:port]` of an `auths` key such as `https://host:5000/v1/`, as Docker normalises it. */
export function hostOfKey(key: string): string {
  const bare = key.replace(/^[a-z]+:\/\//i, '');
  const host = bare.split('/')[0] ?? bare;
  return ['index.docker.io', 'registry-1.docker.io'].includes(host) ? 'docker.io' : host;
}

/** The key Docker stores a registry's credentials under (and gives helpers as ServerURL). */
export function credentialKey(registry: string): string {
  return hostOfKey(registry) === 'docker.io' ? DOCKER_HUB_KEY : registry;
}

async function readConfig(file: string): Promise<ConfigFile | undefined> {
  const text = await readFileOrUndefined(file);
  if (text === undefined || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CairnError('credentials-file', `${file} is not valid JSON`, {
      hint: 'Fix or remove the file, then run cairn login again.',
      cause: error,
    });
  }
  if (!isRecord(parsed)) {
    throw new CairnError('credentials-file', `${file} is not a JSON object`, {
      hint: 'Fix or remove the file, then run cairn login again.',
    });
  }
  return parsed;
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin; stdout and exit code. */
function runHelper(
  helper: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string }> {
  const bin = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      [action],
      { env, timeout: 30_000, maxBuffer: 1024 * 1024 },
      (error, stdout) => {
        if (error === null) {
          resolve({ code: 0, stdout });
        } else if (typeof error.code === 'number') {
          resolve({ code: error.code, stdout });
        } else {
          // Not the helper's answer (missing binary, timeout): its output may hold secrets.
          const why = errnoCode(error) === 'ENOENT' ? 'is not on PATH' : 'did not finish';
          reject(
            new CairnError('credential-helper', `the credential helper ${bin} ${why}`, {
              hint: `Install ${bin}, or remove "${helper}" from credsStore/credHelpers in your Docker config.`,
            }),
          );
        }
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

function helperFailed(helper: string, action: string, code: number): CairnError {
  // The helper's output is left out on purpose: a helper may echo what it was given.
  return new CairnError(
    'credential-helper',
    `docker-credential-${helper} ${action} failed (exit ${code})`,
    { hint: `Check the helper by hand: echo <registry> | docker-credential-${helper} get` },
  );
}

/** The credential a helper holds for `key`; undefined when it has none. */
async function helperGet(
  helper: string,
  key: string,
  env: NodeJS.ProcessEnv,
): Promise<Credential | undefined> {
  const { code, stdout } = await runHelper(helper, 'get', key, env);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw helperFailed(helper, 'get', code);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw new CairnError('credential-helper', `docker-credential-${helper} get: not JSON`);
  }
  if (!isRecord(answer) || typeof answer.Secret !== 'string' || answer.Secret === '') {
    return undefined;
  }
  const username = typeof answer.Username === 'string' ? answer.Username : '';
  return { username, password: answer.Secret };
}

function fromEntry(entry: AuthEntry): Credential | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return { username: '<token>', password: entry.identitytoken };
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** `auths` of a config, or none when the file has something else there. */
function authsOf(config: ConfigFile): Record<string, AuthEntry> {
  return isRecord(config.auths) ? config.auths : {};
}

/** The `auths` keys of `config` that name `registry`. */
function matchingKeys(config: ConfigFile, registry: string): string[] {
  const host = hostOfKey(registry);
  return Object.keys(authsOf(config)).filter((k) => hostOfKey(k) === host);
}

/** The helper a config names for `registry`: `credHelpers[host]`, else `credsStore`. */
function helperFor(config: ConfigFile, registry: string): string | undefined {
  const host = hostOfKey(registry);
  for (const [k, helper] of Object.entries(
    isRecord(config.credHelpers) ? config.credHelpers : {},
  )) {
    if (hostOfKey(k) === host && typeof helper === 'string' && helper !== '') return helper;
  }
  return typeof config.credsStore === 'string' && config.credsStore !== ''
    ? config.credsStore
    : undefined;
}

/** The credential one config file gives for `registry`: its helper first, then `auths`. */
async function lookIn(
  file: string,
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<Credential | undefined> {
  const config = await readConfig(file);
  if (config === undefined) return undefined;
  const helper = helperFor(config, registry);
  if (helper !== undefined) {
    const found = await helperGet(helper, credentialKey(registry), env);
    if (found !== undefined) return found;
  }
  for (const key of matchingKeys(config, registry)) {
    const entry = authsOf(config)[key];
    const found = isRecord(entry) ? fromEntry(entry) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Cairn's credentials file, then Docker's config; `registry` is `host[:port]`. */
export function createCredentialSource(env: NodeJS.ProcessEnv): CredentialSource {
  const cache = new Map<string, Promise<Credential | undefined>>();
  return {
    get: (registry) => {
      let found = cache.get(registry);
      if (found === undefined) {
        found = (async () =>
          (await lookIn(cairnCredentialsFile(env), registry, env)) ??
          (await lookIn(dockerConfigFile(env), registry, env)))();
        cache.set(registry, found);
      }
      return found;
    },
  };
}

/** A credential given once (`-u`/`-p` of `login`), for any registry asked about. */
export function staticCredentialSource(credential: Credential): CredentialSource {
  return { get: () => Promise.resolve(credential) };
}

async function writeConfig(file: string, config: ConfigFile): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Saves `credential` for `registry` in Cairn's credentials file: through the file's helper
 * (`credHelpers`/`credsStore`) if it names one, else base64 in `auths` (mode 0600).
 */
export async function storeCredential(
  registry: string,
  credential: Credential,
  env: NodeJS.ProcessEnv,
): Promise<CredentialLocation> {
  const file = cairnCredentialsFile(env);
  const config = (await readConfig(file)) ?? {};
  const key = credentialKey(registry);
  const helper = helperFor(config, registry);
  const auths = { ...authsOf(config) };
  for (const k of matchingKeys(config, registry)) Reflect.deleteProperty(auths, k);
  if (helper !== undefined) {
    const input = JSON.stringify({
      ServerURL: key,
      Username: credential.username,
      Secret: credential.password,
    });
    const { code } = await runHelper(helper, 'store', input, env);
    if (code !== 0) throw helperFailed(helper, 'store', code);
    await writeConfig(file, { ...config, auths });
    return { file, helper };
  }
  auths[key] =
    credential.username === '<token>'
      ? { identitytoken: credential.password }
      : { auth: Buffer.from(`${credential.username}:${credential.password}`).toString('base64') };
  await writeConfig(file, { ...config, auths });
  return { file };
}

/** Forgets `registry` in Cairn's credentials file (and its helper); false if nothing was there. */
export async function eraseCredential(
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<CredentialLocation & { removed: boolean }> {
  const file = cairnCredentialsFile(env);
  const config = await readConfig(file);
  if (config === undefined) return { file, removed: false };
  let removed = false;
  const helper = helperFor(config, registry);
  if (helper !== undefined) {
    const { code, stdout } = await runHelper(helper, 'erase', credentialKey(registry), env);
    if (code === 0) removed = true;
    else if (!/credentials not found/i.test(stdout)) throw helperFailed(helper, 'erase', code);
  }
  const keys = matchingKeys(config, registry);
  if (keys.length > 0) {
    const auths = { ...authsOf(config) };
    for (const k of keys) Reflect.deleteProperty(auths, k);
    await writeConfig(file, { ...config, auths });
    removed = true;
  }
  return { file, removed, ...(helper === undefined ? {} : { helper }) };
}
