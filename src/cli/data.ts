/**
 * Text renderings of the repository and data commands: init, add, status, checkout, commit,
 * unprotect, gc, fsck (`--json` prints the results themselves).
 */
import type { InitResult } from '../commands/init.js';
import type { AddedOutput } from '../data/add.js';
import type { CheckoutSummary } from '../data/checkout.js';
import type { FsckResult, GcResult } from '../data/gc.js';
import type { PipelineStatusReport } from '../pipeline/status.js';
import { formatBytes } from './progress.js';

export function formatInit(result: InitResult): string {
  const note = result.cacheDir === undefined ? '' : `\nSharing DVC's cache at ${result.cacheDir}.`;
  return `Initialized Cairn repository in ${result.root}/.cairn${note}`;
}

export function formatAdd(added: readonly AddedOutput[]): string {
  const text = added
    .map(
      (a) =>
        `${a.changed ? 'Added' : 'Unchanged'} ${a.path} -> ${a.dvcFile} (${a.md5}${a.nfiles === undefined ? '' : `, ${a.nfiles} files`})`,
    )
    .join('\n');
  const hint = added.some((a) => a.changed)
    ? `\nTo track the changes with git, run:\n\tgit add ${[...new Set(added.flatMap((a) => a.gitFiles))].join(' ')}`
    : '';
  return `${text}${hint}`;
}

export function formatCommit(saved: readonly AddedOutput[]): string {
  const changed = saved.filter((s) => s.changed);
  return changed.length === 0
    ? 'Nothing to commit.'
    : changed.map((s) => `Committed ${s.path} (${s.md5})`).join('\n');
}

export function formatUnprotect(changed: readonly string[]): string {
  return changed.length === 0 ? 'Nothing to unprotect.' : `Unprotected ${changed.length} file(s).`;
}

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

/** `cairn status` text for stages and .dvc files, laid out as DVC prints it. */
export function formatStatusReport(report: PipelineStatusReport): string {
  const names = Object.keys(report);
  if (names.length === 0) return 'Data and pipelines are up to date.';
  const lines: string[] = [];
  for (const name of names) {
    lines.push(`${name}:`);
    for (const item of report[name] ?? []) {
      if (typeof item === 'string') {
        lines.push(`\t${item}`);
        continue;
      }
      const [title, changes] =
        'changed deps' in item
          ? (['changed deps', item['changed deps']] as const)
          : (['changed outs', item['changed outs']] as const);
      lines.push(`\t${title}:`);
      for (const [p, s] of Object.entries(changes)) {
        if (typeof s === 'string') lines.push(`\t\t${`${s}:`.padEnd(20)}${p}`);
        else {
          lines.push(`\t\t${p}:`);
          for (const [k, v] of Object.entries(s)) lines.push(`\t\t\t${`${v}:`.padEnd(20)}${k}`);
        }
      }
    }
  }
  return lines.join('\n');
}
