/**
 * One undici Agent per set of registry options: TLS verification, an extra CA bundle on top of
 * the system roots, a client certificate, and keep-alive connections shared by every request.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import type { Dispatcher } from 'undici';
import { CairnError, errnoCode } from '../../core/errors.js';
import type { RegistryOptions } from './types.js';
import { Agent } from './undici-lite.js';

/** `https://host[:port]`, or `http://` with `--plain-http`. */
export function registryBaseUrl(registry: string, o: Pick<RegistryOptions, 'plainHttp'>): string {
  return `${o.plainHttp ? 'http' : 'https'}://${registry === 'docker.io' ? 'registry-1.docker.io' : registry}`;
}

function readPem(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CairnError(
      'tls-file',
      `cannot read the ${what} ${file}: ${errnoCode(error) ?? String(error)}`,
      {
        hint: 'Check the path given to --ca-file, --cert-file or --key-file.',
      },
    );
  }
}

/** An Agent for `o`; the caller closes it when the command is done. */
export function createDispatcher(o: RegistryOptions, connections = 8): Dispatcher {
  const connect: { rejectUnauthorized: boolean; ca?: string[]; cert?: string; key?: string } = {
    rejectUnauthorized: o.tlsVerify,
  };
  if (o.caFile !== undefined) {
    connect.ca = [...tls.rootCertificates, readPem(o.caFile, 'CA bundle')];
  }
  if (o.certFile !== undefined || o.keyFile !== undefined) {
    if (o.certFile === undefined || o.keyFile === undefined) {
      throw new CairnError(
        'tls-file',
        'a client certificate needs both --cert-file and --key-file',
      );
    }
    connect.cert = readPem(o.certFile, 'client certificate');
    connect.key = readPem(o.keyFile, 'client key');
  }
  return new Agent({
    connect,
    connections,
    keepAliveTimeout: 30_000,
    // Large blobs stream for minutes; only a silent connection counts as stalled.
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
}
