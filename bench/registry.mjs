// A docker-registry (CNCF distribution) process for the push and pull benchmarks: plain HTTP on
// a loopback port, its store under the bench root, restarted with an empty store on demand (a
// running registry caches blob descriptors in memory, so wiping its directory is not enough).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchRoot, log } from './lib.mjs';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const SKOPEO_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts a registry; `restart()` stops it, empties its store and starts it again. */
export async function startBenchRegistry(name) {
  const dir = path.join(benchRoot(), `${name}-registry`);
  const storage = path.join(dir, 'store');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(storage, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn, formatter: text, accesslog: {disabled: true}}',
      'storage:',
      `  filesystem: {rootdirectory: ${storage}}`,
      '  delete: {enabled: true}',
      '  cache: {blobdescriptor: inmemory}',
      '  maintenance: {uploadpurging: {enabled: false}}',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: cairn-bench-registry-secret',
      '',
    ].join('\n'),
  );
  let child;
  let exited;
  const up = async () => {
    const out = fs.openSync(path.join(dir, 'registry.log'), 'a');
    child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    exited = new Promise((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 500; i++) {
      if (await listening(port)) return;
      await sleep(10);
    }
    throw new Error(`docker-registry did not start; see ${path.join(dir, 'registry.log')}`);
  };
  const down = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  await up();
  log(`registry on 127.0.0.1:${port} (store ${storage})`);
  return {
    host: `127.0.0.1:${port}`,
    storage,
    /** Empty registry, and no skopeo blob-info cache (else skopeo tries mounts). */
    async reset() {
      await down();
      fs.rmSync(storage, { recursive: true, force: true });
      fs.mkdirSync(storage, { recursive: true });
      fs.rmSync(SKOPEO_CACHE, { force: true });
      await up();
    },
    stop: down,
  };
}
