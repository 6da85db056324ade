// Credential lookup and storage in Docker's config format, with a real credential-helper
// process: Cairn's own file wins over Docker's, credHelpers[host] over credsStore over auths,
// Docker Hub is keyed as Docker keys it, and login writes 0600 files that keep unknown keys.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DOCKER_HUB_KEY,
  cairnCredentialsFile,
  createCredentialSource,
  dockerConfigFile,
  eraseCredential,
  storeCredential,
} from '../../src/oci/registry/credentials.js';
import { makeFakeHelper } from './cred-helper.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function world(): { env: NodeJS.ProcessEnv; cairnFile: string; dockerFile: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-creds-'));
  const env = {
    HOME: path.join(root, 'home'),
    CAIRN_HOME: path.join(root, 'cairn'),
    PATH: process.env.PATH ?? '',
  };
  return { env, cairnFile: cairnCredentialsFile(env), dockerFile: dockerConfigFile(env) };
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value));
}

describe('credential lookup', () => {
  it("finds Docker's auths under the URL forms Docker writes, and identity tokens", async () => {
    const { env, dockerFile } = world();
    expect(dockerFile).toBe(path.join(env.HOME ?? '', '.docker', 'config.json'));
    writeJson(dockerFile, {
      auths: {
        'https://reg.example:5000/v1/': { auth: b64('ann:pw:with:colons') },
        [DOCKER_HUB_KEY]: { auth: b64('hubber:hubpw') },
        'ghcr.io': { identitytoken: 'refresh-xyz' },
      },
    });
    const source = createCredentialSource(env);
    expect(await source.get('reg.example:5000')).toEqual({
      username: 'ann',
      password: 'pw:with:colons',
    });
    expect(await source.get('docker.io')).toEqual({ username: 'hubber', password: 'hubpw' });
    expect(await source.get('ghcr.io')).toEqual({ username: '<token>', password: 'refresh-xyz' });
    expect(await source.get('reg.example')).toBeUndefined();
    expect(await source.get('other.example')).toBeUndefined();
  });

  it("reads $DOCKER_CONFIG, and Cairn's file wins over Docker's", async () => {
    const { env, cairnFile } = world();
    env.DOCKER_CONFIG = path.join(env.HOME ?? '', 'elsewhere');
    writeJson(path.join(env.DOCKER_CONFIG, 'config.json'), {
      auths: { 'a.example': { auth: b64('docker:one') }, 'b.example': { auth: b64('d:two') } },
    });
    writeJson(cairnFile, { auths: { 'a.example': { auth: b64('cairn:three') } } });
    const source = createCredentialSource(env);
    expect(await source.get('a.example')).toEqual({ username: 'cairn', password: 'three' });
    expect(await source.get('b.example')).toEqual({ username: 'd', password: 'two' });
  });

  it('asks credHelpers[host] before credsStore, through a real helper process', async () => {
    const { env, dockerFile } = world();
    const helper = makeFakeHelper();
    env.PATH = `${helper.dir}${path.delimiter}${env.PATH ?? ''}`;
    helper.put('reg.example:5000', 'helped', 'helper-secret');
    helper.put(DOCKER_HUB_KEY, 'hubuser', 'hub-secret');
    writeJson(dockerFile, {
      credsStore: 'cairntest',
      credHelpers: { 'reg.example:5000': 'cairntest', 'broken.example': 'nosuchhelper' },
      auths: { 'plain.example': { auth: b64('plain:pw') } },
    });
    const source = createCredentialSource(env);
    expect(await source.get('reg.example:5000')).toEqual({
      username: 'helped',
      password: 'helper-secret',
    });
    expect(await source.get('docker.io')).toEqual({ username: 'hubuser', password: 'hub-secret' });
    // The store says "credentials not found": the inline auths entry still counts.
    expect(await source.get('plain.example')).toEqual({ username: 'plain', password: 'pw' });
    expect(helper.calls()).toEqual([
      { action: 'get', input: 'reg.example:5000' },
      { action: 'get', input: DOCKER_HUB_KEY },
      { action: 'get', input: 'plain.example' },
    ]);
    await expect(source.get('broken.example')).rejects.toThrow(
      /docker-credential-nosuchhelper is not on PATH/,
    );
  });

  it('reports a broken config file by path', async () => {
    const { env, cairnFile } = world();
    fs.mkdirSync(path.dirname(cairnFile), { recursive: true });
    fs.writeFileSync(cairnFile, '{"auths": ');
    await expect(createCredentialSource(env).get('a.example')).rejects.toThrow(
      `${cairnFile} is not valid JSON`,
    );
  });
});

describe('credential storage', () => {
  it('writes base64 auths at mode 0600, keeping the keys it does not own', async () => {
    const { env, cairnFile } = world();
    writeJson(cairnFile, {
      auths: { 'keep.example': { auth: b64('k:k') }, 'https://a.example/v1/': { auth: 'old' } },
      psFormat: 'table',
    });
    const where = await storeCredential('a.example', { username: 'u', password: 'p' }, env);
    expect(where).toEqual({ file: cairnFile });
    expect(fs.statSync(cairnFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(cairnFile, 'utf8'))).toEqual({
      auths: { 'keep.example': { auth: b64('k:k') }, 'a.example': { auth: b64('u:p') } },
      psFormat: 'table',
    });
    expect(await createCredentialSource(env).get('a.example')).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(await eraseCredential('a.example', env)).toEqual({ file: cairnFile, removed: true });
    expect(await eraseCredential('a.example', env)).toEqual({ file: cairnFile, removed: false });
    expect(await createCredentialSource(env).get('a.example')).toBeUndefined();
  });

  it("stores through the file's credsStore helper and keeps the secret out of the file", async () => {
    const { env, cairnFile } = world();
    const helper = makeFakeHelper();
    env.PATH = `${helper.dir}${path.delimiter}${env.PATH ?? ''}`;
    writeJson(cairnFile, { credsStore: 'cairntest' });
    const where = await storeCredential(
      'docker.io',
      { username: 'me', password: 'helper-kept-secret' },
      env,
    );
    expect(where).toEqual({ file: cairnFile, helper: 'cairntest' });
    expect(helper.stored(DOCKER_HUB_KEY)).toEqual({
      ServerURL: DOCKER_HUB_KEY,
      Username: 'me',
      Secret: 'helper-kept-secret',
    });
    expect(fs.readFileSync(cairnFile, 'utf8')).not.toContain('helper-kept-secret');
    expect(await createCredentialSource(env).get('docker.io')).toEqual({
      username: 'me',
      password: 'helper-kept-secret',
    });
    const erased = await eraseCredential('docker.io', env);
    expect(erased.removed).toBe(true);
    expect(helper.stored(DOCKER_HUB_KEY)).toBeUndefined();
    expect(helper.calls().map((c) => c.action)).toEqual(['store', 'get', 'erase']);
  });
});
