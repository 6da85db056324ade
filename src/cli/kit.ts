/**
 * Text renderings of the ModelKit commands: pack, unpack, list, info, tag, rm, diff and
 * `kit init` (`--json` prints the results themselves; inspect is JSON either way).
 */
import type { DiffResult } from '../commands/kit.js';
import type { KitInfo } from '../modelkit/kitfile-filter.js';
import { kitfileToYaml } from '../modelkit/kitfile-yaml.js';
import { formatSize, type ListRow } from '../modelkit/list-row.js';
import type { UnpackResult } from '../modelkit/unpack.js';
import type { Removed } from '../oci/local-repo.js';
import { displayRepository, splitRepository } from '../oci/reference.js';

export function formatPack(r: { digest: string; references: readonly string[] }): string {
  const tagged = r.references.length > 0 ? ` as ${r.references.join(', ')}` : '';
  return `Model saved: ${r.digest}${tagged}`;
}

/** `info --json` prints the Kitfile or the selected field, as kit does. */
export function infoJson(r: KitInfo): unknown {
  return r.field === undefined ? r.kitfile : r.field.value;
}

export function formatInfo(r: KitInfo): string {
  if (r.field === undefined) return kitfileToYaml(r.kitfile, true);
  const { value } = r.field;
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

export function formatTagged(r: { tagged: readonly string[] }): string {
  return r.tagged.map((t) => `Tagged ${t}`).join('\n');
}

export function formatUnpack(r: UnpackResult): string {
  const lines = r.layers.map(
    (l) =>
      `Unpacked ${l.type} ${l.path} (${l.files} file(s), ${formatSize(l.bytes)}${l.skippedExisting > 0 ? `, ${l.skippedExisting} existing kept` : ''})`,
  );
  if (r.kitfile === 'written') lines.push('Wrote Kitfile');
  lines.push(`Unpacked to ${r.dir}`);
  return lines.join('\n');
}

/** kit's `list` table: a row per tag, `<none>` for what is missing. */
export function formatList(rows: readonly ListRow[]): string {
  const none = (s: string) => (s === '' ? '<none>' : s);
  const table: string[][] = [['REPOSITORY', 'TAG', 'MAINTAINER', 'NAME', 'SIZE', 'DIGEST']];
  for (const r of rows) {
    const tags = r.tags.length === 0 ? [''] : r.tags;
    for (const t of tags)
      table.push([none(r.repo), none(t), none(r.author), none(r.modelName), r.size, r.digest]);
  }
  const widths =
    table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  return table
    .map((row) =>
      row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export function formatDiff(d: DiffResult): string {
  const lines = [
    `A: ${d.a.reference} (${d.a.digest})`,
    `B: ${d.b.reference} (${d.b.digest})`,
    `Config: ${d.configEqual ? 'identical' : 'different'}`,
    `Annotations: ${d.annotationsEqual ? 'identical' : 'different'}`,
    `Shared layers (${d.sharedLayers.length}):`,
    ...d.sharedLayers.map((l) => `  ${l.digest}  ${l.mediaType}  ${formatSize(l.size)}`),
    `Only in A (${d.onlyInA.length}):`,
    ...d.onlyInA.map((l) => `  ${l.digest}  ${l.mediaType}  ${formatSize(l.size)}`),
    `Only in B (${d.onlyInB.length}):`,
    ...d.onlyInB.map((l) => `  ${l.digest}  ${l.mediaType}  ${formatSize(l.size)}`),
  ];
  return lines.join('\n');
}

export function formatRemoved(r: Removed): string {
  const lines = [
    ...r.untagged.map((u) => `Untagged ${u}`),
    ...r.manifests.map(
      (m) =>
        `Removed ${displayRepository(splitRepository(m.repository).registry, splitRepository(m.repository).repository) || '<untagged>'}@${m.digest}`,
    ),
  ];
  if (r.blobs.length > 0) lines.push(`Deleted ${r.blobs.length} unused blob(s).`);
  return lines.length === 0 ? 'Nothing removed.' : lines.join('\n');
}
