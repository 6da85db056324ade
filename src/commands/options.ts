/**
 * The options several commands share — which local store, how to reach a registry — and what
 * they make: a store, registry options, a client. Flags are parsed by src/cli/; these are their
 * typed values.
 */
import { LocalStore, storeRoot } from '../oci/layout.js';
import type { OciReference } from '../oci/reference.js';
import type { RegistryClient } from '../oci/registry/client.js';
import type { RegistryOptions } from '../oci/registry/types.js';
import type { CommandContext } from './context.js';

export interface StoreFlags {
  /** use kit's store ($KITOPS_HOME/storage) */
  kitops?: boolean;
}

/** The registry transport settings (`--plain-http`, `--tls-verify`, …, `--concurrency`). */
export interface RegistryFlags {
  plainHttp?: boolean;
  /** 'true' | 'false' | '1' | '0' */
  tlsVerify?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** blobs transferred at once */
  concurrency?: number;
}

export interface RemoteFlags extends RegistryFlags, StoreFlags {}

export function openStore(ctx: CommandContext, flags: StoreFlags = {}): Promise<LocalStore> {
  return LocalStore.open(storeRoot(ctx.env, flags.kitops === true));
}

/** The RegistryOptions the flags (and `CAIRN_REGISTRY_PLAIN_HTTP`) ask for. */
export function registryOptions(flags: RegistryFlags, env: NodeJS.ProcessEnv): RegistryOptions {
  const plainEnv = env.CAIRN_REGISTRY_PLAIN_HTTP;
  return {
    plainHttp: flags.plainHttp === true || plainEnv === '1' || plainEnv === 'true',
    tlsVerify: !(flags.tlsVerify === 'false' || flags.tlsVerify === '0'),
    ...(flags.caFile === undefined ? {} : { caFile: flags.caFile }),
    ...(flags.certFile === undefined ? {} : { certFile: flags.certFile }),
    ...(flags.keyFile === undefined ? {} : { keyFile: flags.keyFile }),
    env,
  };
}

/**
 * A client for the registry of `ref`, with the flags' transport settings. The registry code
 * (undici and friends) loads only now: local commands never pay for it.
 */
export async function clientFor(
  ctx: CommandContext,
  ref: OciReference,
  flags: RegistryFlags,
): Promise<RegistryClient> {
  const { RegistryClient } = await import('../oci/registry/client.js');
  const { registryAuthorizer } = await import('../oci/registry/auth.js');
  const options: RegistryOptions = registryOptions(flags, ctx.env);
  return new RegistryClient(ref.registry, options, {
    authorizer: (dispatcher) => registryAuthorizer(ref.registry, options, dispatcher),
  });
}

/** Runs `body` with a client for the registry of `ref`, closed afterwards. */
export async function withClient<T>(
  ctx: CommandContext,
  ref: OciReference,
  flags: RegistryFlags,
  body: (client: RegistryClient) => Promise<T>,
): Promise<T> {
  const client = await clientFor(ctx, ref, flags);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}
