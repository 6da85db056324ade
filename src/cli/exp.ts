/** Text renderings of the experiment commands. */
import type { ExpListGroup, ExpRunResult } from '../commands/exp.js';
import type { ApplyResult, ExpDiff } from '../exp/manage.js';
import type { QueueEntry } from '../exp/queue.js';
import type { SyncResult } from '../exp/sync.js';
import type { ExpRow } from '../exp/show.js';
import type { ExpTable } from '../exp/table.js';
import type { Cell } from '../exp/values.js';
import { displayWidth } from './display-width.js';
import { plainTable } from './table.js';

export function formatExpRun(r: ExpRunResult): string {
  const lines: string[] = [];
  for (const e of r.experiments) {
    const params = e.assignments.map((a) => `${a.key}=${a.value}`).join(' ');
    const what = params === '' ? '' : ` (${params})`;
    if (e.failed) lines.push(`Experiment '${e.name}'${what} failed: no ref written.`);
    else
      lines.push(
        `Ran experiment '${e.name}'${what} in ${(e.ms / 1000).toFixed(1)}s: ${e.ref} (${(e.commit ?? '').slice(0, 7)})`,
      );
  }
  if (r.experiments.length > 0 && !r.failed)
    lines.push(
      'To apply one to the workspace: cairn exp apply <name>; to keep it: cairn exp branch <name> <branch>.',
    );
  return lines.join('\n');
}

export function formatQueued(entries: readonly QueueEntry[]): string {
  const lines = entries.map(
    (e) =>
      `Queued experiment '${e.name}' (${e.id})${e.assignments.length === 0 ? '' : `: ${e.assignments.map((a) => `${a.key}=${a.value}`).join(' ')}`}`,
  );
  lines.push('Run them with: cairn exp queue start -j <N>');
  return lines.join('\n');
}

export type ShowFormat = 'text' | 'csv' | 'md';

/** A cell as text: numbers to `precision` significant digits, as DVC prints them; blanks as '-'. */
function cellText(v: Cell | undefined, precision: number): string {
  if (v === undefined) return '-';
  if (v === null) return 'null';
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(precision)));
  return String(v);
}

function createdText(row: ExpRow, now: Date): string {
  if (row.created === undefined) return '-';
  const d = new Date(row.created * 1000);
  const iso = d.toISOString();
  return d.toDateString() === now.toDateString() ? iso.slice(11, 16) : iso.slice(0, 10);
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function formatExpShow(
  table: ExpTable,
  format: ShowFormat,
  precision: number,
  now = new Date(),
): string {
  const header = ['Experiment', 'Created', ...table.columns.map((c) => c.label)];
  if (format === 'csv') {
    const lines = [
      ['Experiment', 'rev', 'typ', 'Created', 'parent', ...table.columns.map((c) => c.label)]
        .map(csvField)
        .join(','),
    ];
    for (const t of table.rows)
      lines.push(
        [
          t.row.name,
          t.row.rev,
          t.row.kind,
          t.row.created === undefined ? '' : new Date(t.row.created * 1000).toISOString(),
          t.row.baseline ?? '',
          ...t.cells.map((c) => (c === undefined ? '' : cellText(c, 17))),
        ]
          .map(csvField)
          .join(','),
      );
    return lines.join('\n');
  }
  const body = table.rows.map((t) => [
    `${t.branch}${t.row.name}${t.row.kind === 'experiment' ? ` [${t.row.rev.slice(0, 7)}]` : ''}`,
    createdText(t.row, now),
    ...t.cells.map((c) => cellText(c, precision)),
  ]);
  if (format === 'md') {
    const esc = (s: string): string => s.replaceAll('|', '\\|');
    return [
      `| ${header.map(esc).join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...body.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n');
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((r) => displayWidth(r[i] ?? ''))),
  );
  const pad = (r: string[]): string =>
    r
      .map((s, i) => {
        const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(s)));
        return i < 2 ? s + gap : gap + s;
      })
      .join('  ')
      .trimEnd();
  const errors = table.rows.flatMap((t) => t.row.errors.map((e) => `warning: ${t.row.name}: ${e}`));
  return [
    pad(header),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...body.map(pad),
    ...errors,
  ].join('\n');
}

export function formatExpList(groups: readonly ExpListGroup[]): string {
  if (groups.length === 0) return 'No experiments.';
  return groups
    .map((g) =>
      [`${g.baseline.slice(0, 7)}:`, ...g.experiments.map((e) => `\t${e.name}`)].join('\n'),
    )
    .join('\n');
}

export function formatExpDiff(d: ExpDiff, md: boolean, precision: number): string {
  const rows: string[][] = [];
  for (const kind of ['metrics', 'params'] as const)
    for (const [file, keys] of Object.entries(d[kind]))
      for (const [key, c] of Object.entries(keys))
        rows.push([
          file,
          key,
          cellText(c.old, precision),
          cellText(c.new, precision),
          c.diff === undefined ? '-' : cellText(c.diff, precision),
        ]);
  if (rows.length === 0) return `No changes between ${d.a.spec} and ${d.b.spec}.`;
  const headers = ['Path', 'Metric/Param', d.a.spec.slice(0, 12), d.b.spec.slice(0, 12), 'Change'];
  if (md)
    return [
      `| ${headers.join(' | ')} |`,
      `|${headers.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  return plainTable({ headers, rows });
}

export function formatApply(a: ApplyResult): string {
  return `Applied experiment '${a.name}' (${a.commit.slice(0, 7)}): ${String(a.written.length + a.removed.length)} files from git, ${String(a.restored.length)} outputs from the cache.`;
}

export function formatQueueStatus(entries: readonly QueueEntry[]): string {
  if (entries.length === 0) return 'The queue is empty.';
  const rows = entries.map((e) => [
    e.id,
    e.name,
    e.state,
    e.baseline.slice(0, 7),
    e.assignments.map((a) => `${a.key}=${a.value}`).join(' '),
  ]);
  return plainTable({ headers: ['Id', 'Experiment', 'State', 'Baseline', 'Params'], rows });
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

export function formatExpSync(verb: 'push' | 'pull', r: SyncResult): string {
  if (r.refs.length === 0) return 'No experiments to transfer.';
  const done = `${verb === 'push' ? 'Pushed' : 'Pulled'} ${plural(r.refs.length, 'experiment')}`;
  if (r.cache === undefined) return `${done} (git refs only: --no-cache).`;
  const c = r.cache;
  const direction = verb === 'push' ? 'to' : 'from';
  return `${done}; ${plural(c.transferred, 'cache object')} ${verb === 'push' ? 'pushed' : 'pulled'} ${direction} '${c.remote}' (${String(c.present)} already there).`;
}
