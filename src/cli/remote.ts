/** Text renderings of the registry commands: push, pull, referrers, rm --remote, login, logout. */
import type { Sha256Digest } from '../oci/digest.js';
import type { TransferResult } from '../oci/registry/transfer.js';

export function formatTransfer(
  verb: 'Pushed' | 'Pulled',
  r: {
    reference: string;
    digest: Sha256Digest;
    manifest: string;
    blobs: { action: string }[];
    bytes: number;
    parents?: TransferResult[];
  },
): string {
  const count = (a: string): number => r.blobs.filter((b) => b.action === a).length;
  const parts =
    verb === 'Pushed'
      ? [
          `${count('uploaded')} uploaded`,
          `${count('mounted')} mounted`,
          `${count('present')} already there`,
        ]
      : [`${count('downloaded')} downloaded`, `${count('present')} already stored`];
  const noop = verb === 'Pushed' && r.manifest === 'present' && count('present') === r.blobs.length;
  const line = noop
    ? `${r.reference} is up to date (${r.digest})`
    : `${verb} ${r.reference} (${r.digest}): ${parts.join(', ')}`;
  return [line, ...(r.parents ?? []).map((p) => formatTransfer(verb, p))].join('\n');
}
