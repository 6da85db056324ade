/** Text renderings of command results (the JSON renderings are the results themselves). */
import type { CheckoutSummary } from '../data/checkout.js';
import type { FsckResult, GcResult } from '../data/gc.js';
import { formatBytes } from './progress.js';

export function formatCheckout(s: CheckoutSummary): string {
  const lines = [
    ...s.added.map((p) => `A\t${p}`),
    ...s.modified.map((p) => `M\t${p}`),
    ...s.failed.map((f) => `failed\t${f.path}: ${f.reason}`),
  ];
  if (s.failed.length > 0)
    lines.push(
      'Some data could not be checked out: fetch it into the cache, or re-add it where it exists.',
    );
  return lines.join('\n');
}

export function formatGc(r: GcResult): string {
  const verb = r.dryRun ? 'Would remove' : 'Removed';
  const lines = [
    `${verb} ${r.removed.length} object(s), ${formatBytes(r.bytes)}; keeping ${r.kept} referenced object(s).`,
  ];
  if (r.dryRun && r.removed.length > 0) lines.push('Run `cairn gc --force` to delete them.');
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function formatFsck(r: FsckResult): string {
  const lines = [
    `Checked ${r.checked} object(s), ${formatBytes(r.bytes)}: ${r.corrupt.length} corrupt.`,
  ];
  for (const c of r.corrupt) lines.push(`corrupt\t${c.md5}: ${c.reason} (moved to ${c.movedTo})`);
  return lines.join('\n');
}
