/**
 * Real CNCF distribution registries (Debian's `docker-registry`) for tests: each started on a
 * free loopback port with its own temp store and config, and stopped by PID with SIGTERM
 * (../shared/specs/oci-registry-peers.md §1: SIGINT is ignored; wait for `exit`, not `kill -0`).
 *
 *   startRegistry()                                  plain HTTP, no auth
 *   startRegistry({ htpasswd: { alice: 'pw' } })     Basic auth (bcrypt htpasswd file)
 *   startRegistry({ token: await startTokenServer({ users: { bob: 'pw' } }) })   Bearer auth
 *   startRegistry({ tls: makeTls(), requireClientCert: true })   HTTPS from a test CA (± mTLS)
 *   startFaultProxy(registry.url, { seed, errorRate, tooManyRate, resetRate, ... })
 * Options combine (TLS with htpasswd or a token server); stop everything in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import type { TlsFiles } from './tls.js';
import type { TokenServer } from './token-server.js';

export { startFaultProxy, type FaultOptions, type FaultProxy } from './fault-proxy.js';
export { makeTls, HAVE_OPENSSL, type TlsFiles } from './tls.js';
export { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const HAVE_REGISTRY = fs.existsSync(REGISTRY_BIN);

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The registry's storage root (wipe it to empty the registry). */
  storage: string;
  dir: string;
  pid: number;
  stop: () => Promise<void>;
}

export interface RegistryConfig {
  /** Extra YAML for the `auth:` key (htpasswd, token) and `http.tls`, already indented. */
  authYaml?: string;
  tlsYaml?: string;
  /** Basic auth from an htpasswd file with these users (user → password; bcrypt-hashed). */
  htpasswd?: Record<string, string>;
  /** Bearer auth: tokens from this server (startTokenServer), verified against its cert. */
  token?: TokenServer;
  /** Serve HTTPS with the server cert of these files (makeTls); `url` becomes `https://`. */
  tls?: TlsFiles;
  /** With `tls`: also require a client certificate signed by the same CA (`clientcas`). */
  requireClientCert?: boolean;
}

/** The `auth:` and `http.tls` YAML the structured options of `c` ask for, written into `dir`. */
function derivedYaml(dir: string, c: RegistryConfig): { authYaml?: string; tlsYaml?: string } {
  const out: { authYaml?: string; tlsYaml?: string } = {};
  if (c.htpasswd !== undefined) {
    const file = path.join(dir, 'htpasswd');
    const lines = Object.entries(c.htpasswd).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 5)}`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    out.authYaml = `  htpasswd: {realm: cairn-test, path: ${file}}`;
  }
  if (c.token !== undefined) {
    const t = c.token;
    out.authYaml = [
      '  token:',
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`,
    ].join('\n');
  }
  if (c.tls !== undefined) {
    out.tlsYaml = [
      '  tls:',
      `    certificate: ${c.tls.serverCert}`,
      `    key: ${c.tls.serverKey}`,
      ...(c.requireClientCert === true ? [`    clientcas: [${c.tls.caCert}]`] : []),
    ].join('\n');
  }
  return out;
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => {
        resolve(port);
      });
    });
  });
}

function configText(storage: string, port: number, c: RegistryConfig): string {
  return [
    'version: 0.1',
    'log: {level: warn, formatter: text, accesslog: {disabled: true}}',
    'storage:',
    `  filesystem: {rootdirectory: ${storage}}`,
    '  delete: {enabled: true}',
    '  cache: {blobdescriptor: inmemory}',
    '  maintenance: {uploadpurging: {enabled: false}}',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: cairn-test-registry-secret',
    ...(c.tlsYaml === undefined ? [] : [c.tlsYaml]),
    ...(c.authYaml === undefined ? [] : ['auth:', c.authYaml]),
    '',
  ].join('\n');
}

/** Starts a registry and waits until `/v2/` answers (any HTTP status counts as up). */
export async function startRegistry(options: RegistryConfig = {}): Promise<RunningRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-registry-'));
  const c = { ...options, ...derivedYaml(dir, options) };
  const storage = path.join(dir, 'store');
  fs.mkdirSync(storage);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'config.yml');
    fs.writeFileSync(config, configText(storage, port, c));
    const log = fs.openSync(path.join(dir, 'registry.log'), 'a');
    const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], {
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const state = { dead: false };
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        state.dead = true;
        resolve();
      });
    });
    const scheme = c.tlsYaml === undefined ? 'http' : 'https';
    for (let i = 0; i < 500 && !state.dead; i++) {
      if (await answers(port)) {
        const pid = child.pid ?? 0;
        return {
          host: `127.0.0.1:${port}`,
          port,
          url: `${scheme}://127.0.0.1:${port}`,
          storage,
          dir,
          pid,
          stop: async () => {
            if (!state.dead) child.kill('SIGTERM');
            await exited;
          },
        };
      }
      await sleep(10);
    }
    if (!state.dead) child.kill('SIGKILL');
    await exited;
    if (attempt >= 3) {
      const text = fs.readFileSync(path.join(dir, 'registry.log'), 'utf8');
      throw new Error(`docker-registry did not start on 127.0.0.1:${port}:\n${text}`);
    }
  }
}

/** True once something accepts TCP connections on the port (the registry listens last). */
export function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      resolve(false);
    });
  });
}
