/**
 * Renders core events for a person: one redrawn progress line on a terminal (files, bytes,
 * rate), nothing in a pipe; warnings and messages go to stderr either way.
 */
import type { CairnEvent, EventSink } from '../core/events.js';

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

export function createRenderer(options: RendererOptions): { sink: EventSink; done: () => void } {
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  const clear = (): void => {
    if (drawn) options.stream.write('\r\x1b[2K');
    drawn = false;
  };
  const sink = (event: CairnEvent): void => {
    switch (event.type) {
      case 'progress': {
        if (!options.progress) return;
        const now = Date.now();
        if (now - lastDraw < REDRAW_MS && event.done !== event.total) return;
        lastDraw = now;
        const secs = Math.max((now - started) / 1000, 0.001);
        const count =
          event.total === undefined ? `${event.done} files` : `${event.done}/${event.total} files`;
        const bytes =
          event.bytes === undefined
            ? ''
            : `  ${formatBytes(event.bytes)}${event.totalBytes === undefined ? '' : `/${formatBytes(event.totalBytes)}`}  ${formatBytes(event.bytes / secs)}/s`;
        options.stream.write(`\r\x1b[2K${event.phase}: ${count}${bytes}`);
        drawn = true;
        return;
      }
      case 'phase-done':
        return;
      case 'warning':
        clear();
        options.stream.write(`warning: ${event.message}\n`);
        return;
      case 'info':
        if (options.quiet) return;
        clear();
        options.stream.write(`${event.message}\n`);
        return;
    }
  };
  return { sink, done: clear };
}
