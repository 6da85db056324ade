/**
 * `unpack` of a reference the local store does not hold: from its registry, downloading only
 * the config and the layers the filters select into a temp store, which is deleted afterwards.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { tempSibling } from '../core/fs.js';
import { LocalStore } from '../oci/layout.js';
import { formatReference, type OciReference } from '../oci/reference.js';
import { downloadBlob } from '../oci/registry/download.js';
import { mapLimit } from '../oci/registry/transfer.js';
import { pairLayers, type UnpackResult } from '../modelkit/unpack.js';
import { parseFilter, selected, type UnpackFilter } from '../modelkit/unpack-filter.js';
import type { CommandContext } from './context.js';
import { openStore } from './kit.js';
import { remoteReference, type RemoteFlags } from './remote.js';
import { fetchRemoteKit, withClient } from './remote-kit.js';

export interface RemoteUnpackOptions {
  dir: string;
  overwrite: boolean;
  ignoreExisting: boolean;
  filters: string[];
}

/**
 * Unpacks a ModelKit from the registry: the config and the selected layers are downloaded into
 * a temp store under `ingest/` (swept if this process dies), unpacked, and deleted.
 */
export async function remoteUnpack(
  ctx: CommandContext,
  reference: string,
  o: RemoteUnpackOptions,
  flags: RemoteFlags,
): Promise<UnpackResult> {
  const ref = remoteReference(reference, 'unpack');
  const filters = o.filters.map(parseFilter);
  const store = await openStore(ctx, flags);
  const tmpRoot = tempSibling(path.join(store.root, 'ingest', 'unpack'));
  const tmp = await LocalStore.open(tmpRoot);
  try {
    return await withClient(ctx, ref, flags, async (client) => {
      const fetchInto = async (r: OciReference, f: readonly UnpackFilter[]) => {
        const kit = await fetchRemoteKit(client, r);
        if (kit.kitfile === undefined)
          throw new CairnError('no-kitfile', `${formatReference(r)} carries no Kitfile`);
        const wanted = pairLayers(kit.manifest, kit.kitfile, kit.digest)
          .filter((p) => selected(f, p.section, p.entry))
          .map((p) => p.layer);
        await tmp.putBlob(kit.config);
        const blobs = wanted.filter(
          (d, i, all) => all.findIndex((x) => x.digest === d.digest) === i,
        );
        await mapLimit(blobs, flags.concurrency ?? 5, (d) =>
          downloadBlob(client, tmp, r.repository, d),
        );
        return {
          manifest: kit.manifest,
          digest: kit.digest,
          kitfile: kit.kitfile,
          synthesised: kit.synthesised,
        };
      };
      const loaded = await fetchInto(ref, filters);
      const { unpackLoaded } = await import('./kit-unpack.js');
      return unpackLoaded(ctx, tmp, reference, loaded, o, filters, (parent) =>
        fetchInto(remoteReference(parent, 'unpack'), [{ types: new Set(['model']), ids: [] }]),
      );
    });
  } finally {
    await fsp.rm(tmpRoot, { recursive: true, force: true });
  }
}
