/** Text renderings of the registry commands: push, pull, referrers, rm --remote, login, logout. */
import type { LoginResult, LogoutResult } from '../commands/login.js';
import type { RemoteRemoved } from '../commands/remote-kit.js';
import { formatSize } from '../modelkit/list-row.js';
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

export function formatRemoteRemoved(r: RemoteRemoved): string {
  const tags =
    r.tags.length === 0
      ? ''
      : `\nTags removed with it (the registry deletes by digest): ${r.tags.join(', ')}`;
  return `Deleted ${r.reference} from the registry${tags}`;
}

export function formatReferrers(r: {
  subject: string;
  referrers: { digest: string; artifactType?: string; size: number }[];
}): string {
  if (r.referrers.length === 0) return `No referrers of ${r.subject}`;
  return r.referrers
    .map((d) => `${d.digest}  ${d.artifactType ?? '<no artifact type>'}  ${formatSize(d.size)}`)
    .join('\n');
}

export function formatLogin(r: LoginResult): string {
  const where = r.helper === undefined ? r.file : `docker-credential-${r.helper}`;
  return `Login Succeeded: ${r.registry} (saved in ${where})`;
}

export function formatLogout(r: LogoutResult): string {
  return r.removed ? `Removed the login for ${r.registry}` : `Not logged in to ${r.registry}`;
}
