/** The registry transfers: `push` and `pull` (with the parents a ModelKit refers to). */
import { CairnError } from '../core/errors.js';
import { orLatest, parseReference, remoteReference } from '../oci/reference.js';
import type { TransferResult } from '../oci/registry/transfer.js';
import type { CommandContext } from './context.js';
import { clientFor, openStore, type RemoteFlags } from './options.js';

export async function pushCommand(
  ctx: CommandContext,
  source: string,
  destination: string | undefined,
  flags: RemoteFlags,
): Promise<TransferResult> {
  const src = parseReference(source).ref;
  const dest = remoteReference(destination ?? source, 'push');
  const store = await openStore(ctx, flags);
  const client = await clientFor(ctx, dest, flags);
  try {
    const { push } = await import('../oci/registry/transfer.js');
    return await push({
      store,
      client,
      source: src.digest === undefined ? orLatest(src) : src,
      dest,
      concurrency: flags.concurrency ?? 5,
      sink: ctx.sink,
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      ...chunkSizeFromEnv(ctx.env),
    });
  } finally {
    await client.close();
  }
}

/** `CAIRN_PUSH_CHUNK_SIZE` (bytes; 0 = one PUT per blob) overrides the per-registry default. */
function chunkSizeFromEnv(env: NodeJS.ProcessEnv): { chunkSize?: number } {
  const raw = env.CAIRN_PUSH_CHUNK_SIZE;
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CairnError('bad-env', `CAIRN_PUSH_CHUNK_SIZE=${raw} is not a byte count`, {
      hint: 'Set it to a whole number of bytes, or 0 for one PUT per blob.',
    });
  }
  return { chunkSize: n };
}

/**
 * `pull REF`: the ModelKit, then the ModelKits its `model.path` refers to (kit pulls parents
 * too), up to the chain limit; a cycle stops with an error.
 */
export async function pullCommand(
  ctx: CommandContext,
  reference: string,
  flags: RemoteFlags,
): Promise<TransferResult & { parents: TransferResult[] }> {
  const { pullChain } = await import('../modelkit/remote.js');
  const store = await openStore(ctx, flags);
  return pullChain({
    store,
    reference,
    connect: (ref) => clientFor(ctx, ref, flags),
    concurrency: flags.concurrency ?? 5,
    sink: ctx.sink,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
}
