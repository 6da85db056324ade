/**
 * Renders core events for a person: on a terminal, a redrawn summary line (files, bytes, rate)
 * under a bar per blob in transfer (bytes, rate, ETA); nothing of that in a pipe. Warnings and
 * messages go to stderr either way.
 */
import type { CairnEvent, EventSink } from '../core/events.js';
import { clipToWidth } from './display-width.js';

export interface RendererOptions {
  stream: NodeJS.WriteStream;
  /** draw progress lines (a TTY and neither --json nor --quiet) */
  progress: boolean;
  quiet: boolean;
}

const REDRAW_MS = 100;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i] ?? 'B'}`;
}

/** At most this many per-blob bars are drawn above the summary line. */
const MAX_BARS = 6;

interface Bar {
  label: string;
  bytes: number;
  total: number;
  /** ms, when the bar appeared, and the bytes it started from (a resumed transfer) */
  since: number;
  from: number;
}

/** `model 1a2b3c4d5e6f`: what a blob's bar is called (the layer kind and the digest's start). */
function blobLabel(mediaType: string, digest: string): string {
  const kind = /modelkit\.(\w+)\.v1|model\.([\w.]+)\.v1|config/.exec(mediaType);
  const name = kind?.[1] ?? kind?.[2] ?? kind?.[0] ?? 'blob';
  return `${name.padEnd(9)} ${digest.slice(7, 19)}`;
}

function formatEta(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return '--';
  const s = Math.ceil(secs);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function barLine(b: Bar, now: number): string {
  const width = 20;
  const frac = b.total > 0 ? Math.min(1, b.bytes / b.total) : 1;
  const filled = Math.round(frac * width);
  const rate = (b.bytes - b.from) / Math.max((now - b.since) / 1000, 0.001);
  const eta = rate > 0 ? formatEta((b.total - b.bytes) / rate) : '--';
  return `  ${b.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(b.bytes)}/${formatBytes(b.total)}  ${formatBytes(rate)}/s  ETA ${eta}`;
}

export function createRenderer(options: RendererOptions): { sink: EventSink; done: () => void } {
  const started = Date.now();
  let lastDraw = 0;
  let drawnLines = 0;
  let summary: string | undefined;
  const bars = new Map<string, Bar>();
  const clear = (): void => {
    if (drawnLines === 0) return;
    let out = '\r\x1b[2K';
    for (let i = 1; i < drawnLines; i++) out += '\x1b[1A\x1b[2K';
    options.stream.write(out);
    drawnLines = 0;
  };
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    const lines = [...bars.values()].slice(-MAX_BARS).map((b) => barLine(b, now));
    if (summary !== undefined) lines.push(summary);
    clear();
    if (lines.length === 0) return;
    // A line as wide as the terminal wraps on some terminals: keep the last column free.
    const columns = options.stream.columns as number | undefined;
    const fit = columns === undefined ? lines : lines.map((l) => clipToWidth(l, columns - 1));
    options.stream.write(fit.join('\n'));
    drawnLines = lines.length;
  };
  const sink = (event: CairnEvent): void => {
    switch (event.type) {
      case 'progress': {
        if (!options.progress) return;
        const now = Date.now();
        const secs = Math.max((now - started) / 1000, 0.001);
        const count =
          event.total === undefined ? `${event.done} files` : `${event.done}/${event.total} files`;
        const bytes =
          event.bytes === undefined
            ? ''
            : `  ${formatBytes(event.bytes)}${event.totalBytes === undefined ? '' : `/${formatBytes(event.totalBytes)}`}  ${formatBytes(event.bytes / secs)}/s`;
        summary = `${event.phase}: ${count}${bytes}`;
        draw(event.done === event.total);
        return;
      }
      case 'transfer': {
        if (!options.progress) return;
        if (event.done) bars.delete(event.id);
        else {
          const bar = bars.get(event.id);
          if (bar === undefined) {
            bars.set(event.id, {
              label: blobLabel(event.mediaType, event.id),
              bytes: event.bytes,
              total: event.total,
              since: Date.now(),
              from: event.bytes,
            });
          } else bar.bytes = event.bytes;
        }
        draw(event.done);
        return;
      }
      case 'phase-done':
        return;
      case 'warning':
        clear();
        options.stream.write(`warning: ${event.message}\n`);
        return;
    }
  };
  return { sink, done: clear };
}
