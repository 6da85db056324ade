import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, setConfigValue } from './config.js';
import { ManifestError } from './errors.js';

let dir: string;
let cairnDir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-config-'));
  cairnDir = path.join(dir, 'repo', '.cairn');
  fs.mkdirSync(cairnDir, { recursive: true });
  env = { XDG_CONFIG_HOME: path.join(dir, 'xdg') };
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('layered configuration', () => {
  it('uses DVC-like defaults when nothing is set', async () => {
    const { config } = await loadConfig(cairnDir, { env, cwd: dir });
    expect(config.cache.type).toEqual(['reflink', 'copy']);
    expect(config.cache.dir).toBe(path.join(cairnDir, 'cache'));
    expect(config.core.lock_timeout).toBe(60);
  });

  it('lets the repo override the user, the local file override the repo, and env override all', async () => {
    await setConfigValue(path.join(dir, 'xdg', 'cairn', 'config.yaml'), 'cache.type', 'symlink');
    await setConfigValue(path.join(dir, 'xdg', 'cairn', 'config.yaml'), 'core.lock_timeout', '5');
    await setConfigValue(path.join(cairnDir, 'config.yaml'), 'cache.type', 'hardlink,copy');
    await setConfigValue(
      path.join(cairnDir, 'config.local.yaml'),
      'cache.dir',
      '../../shared-cache',
    );
    const { config, origins } = await loadConfig(cairnDir, {
      cwd: dir,
      env: {
        ...env,
        CAIRN_CORE_LOCK_TIMEOUT: '7',
      },
    });
    expect(config.cache.type).toEqual(['hardlink', 'copy']);
    expect(config.cache.dir).toBe(path.join(dir, 'shared-cache'));
    expect(config.core.lock_timeout).toBe(7);
    expect(origins.get('core.lock_timeout')).toEqual({
      level: 'env',
      origin: 'CAIRN_CORE_LOCK_TIMEOUT',
    });
    expect(origins.get('cache.type')?.level).toBe('repo');
  });

  it('resolves a relative CAIRN_CACHE_DIR against the working folder it is given', async () => {
    const { config } = await loadConfig(cairnDir, {
      env: { ...env, CAIRN_CACHE_DIR: 'elsewhere/cache' },
      cwd: path.join(dir, 'repo'),
    });
    expect(config.cache.dir).toBe(path.join(dir, 'repo', 'elsewhere', 'cache'));
  });

  it('resolves a relative cache.dir against the folder of the file that sets it', async () => {
    fs.writeFileSync(path.join(cairnDir, 'config.yaml'), 'cache:\n  dir: ../.dvc/cache\n');
    const { config } = await loadConfig(cairnDir, { env, cwd: dir });
    expect(config.cache.dir).toBe(path.join(dir, 'repo', '.dvc', 'cache'));
  });

  it('reports a bad value at file:line:col', async () => {
    const file = path.join(cairnDir, 'config.yaml');
    fs.writeFileSync(file, 'cache:\n  type: rsync\n');
    const error = await loadConfig(cairnDir, { env, cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toBe(
      `${file}:2:9: cache.type: unknown link type 'rsync'; use a comma-separated list of reflink, hardlink, symlink, copy`,
    );
  });

  it('reports an unknown key with the list of known ones', async () => {
    fs.writeFileSync(path.join(cairnDir, 'config.yaml'), 'core:\n  colour: blue\n');
    await expect(loadConfig(cairnDir, { env, cwd: dir })).rejects.toThrow(
      /config.yaml:2:11: unknown configuration key 'core.colour'; known keys: core.no_scm/,
    );
  });

  it('refuses to write an invalid value and leaves the file as it was', async () => {
    const file = path.join(cairnDir, 'config.yaml');
    fs.writeFileSync(file, '# keep me\ncore:\n  lock_timeout: 3\n');
    await expect(setConfigValue(file, 'core.lock_timeout', 'soon')).rejects.toThrow(
      /expected a number/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('# keep me\ncore:\n  lock_timeout: 3\n');
  });

  it('keeps comments when setting and unsetting keys', async () => {
    const file = path.join(cairnDir, 'config.yaml');
    fs.writeFileSync(file, '# team settings\ncore:\n  lock_timeout: 3\n');
    await setConfigValue(file, 'cache.type', 'hardlink');
    await setConfigValue(file, 'core.lock_timeout', undefined);
    expect(fs.readFileSync(file, 'utf8')).toBe('# team settings\ncache:\n  type: hardlink\n');
  });

  it('keeps data remotes by name: paths resolved against their file, file:// as a path, other URLs as written', async () => {
    const file = path.join(cairnDir, 'config.yaml');
    fs.writeFileSync(file, '# as cairn init writes it\n');
    await setConfigValue(file, 'remote.storage', '../../remote-store');
    await setConfigValue(file, 'remote.shared', 'file:///mnt/dvc%20store');
    await setConfigValue(file, 'remote.cloud', 's3://bucket/path');
    await setConfigValue(file, 'core.remote', 'storage');
    const { config, origins } = await loadConfig(cairnDir, { env, cwd: dir });
    expect(config.remote).toEqual({
      storage: path.join(dir, 'remote-store'),
      shared: '/mnt/dvc store',
      cloud: 's3://bucket/path',
    });
    expect(config.core.remote).toBe('storage');
    expect(origins.get('remote.storage')?.level).toBe('repo');
    expect(fs.readFileSync(file, 'utf8')).toContain('remote:\n  storage: ../../remote-store\n');
  });

  it('refuses a data remote name that cannot be a key, and a remote key with more parts', async () => {
    const file = path.join(cairnDir, 'config.yaml');
    await expect(setConfigValue(file, 'remote.my.store', '/x')).rejects.toThrow(
      /Unknown configuration key 'remote.my.store'/,
    );
    await expect(setConfigValue(file, 'core.remote', 'a b')).rejects.toThrow(
      /'a b' is not a remote name/,
    );
    expect(fs.existsSync(file)).toBe(false);
  });
});
