/** Plain text tables for the terminal, shared by the command groups' renderers. */
import type { Table } from '../metrics/table.js';
import { displayWidth } from './display-width.js';

/** Columns two spaces apart, left-aligned, no borders (easy to copy, as DVC prints them). */
export function plainTable(t: Table): string {
  if (t.rows.length === 0) return '';
  const all = [t.headers, ...t.rows];
  const widths = t.headers.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((c, i) =>
          i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - displayWidth(c)),
        )
        .join('  '),
    )
    .join('\n');
}
