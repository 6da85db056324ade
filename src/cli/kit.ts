/** Text renderings of the ModelKit commands: list, unpack, diff, rm. */
import { formatSize } from '../modelkit/list-row.js';
import type { UnpackResult } from '../modelkit/unpack.js';

export function formatUnpack(r: UnpackResult): string {
  const lines = r.layers.map(
    (l) =>
      `Unpacked ${l.type} ${l.path} (${l.files} file(s), ${formatSize(l.bytes)}${l.skippedExisting > 0 ? `, ${l.skippedExisting} existing kept` : ''})`,
  );
  if (r.kitfile === 'written') lines.push('Wrote Kitfile');
  lines.push(`Unpacked to ${r.dir}`);
  return lines.join('\n');
}
