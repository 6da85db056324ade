/**
 * The terminal's and `--json`'s renderer of the one event stream (src/core/events.ts): every
 * command's events go through here. On a terminal: progress lines (progress.ts), repro's stage
 * lines (pipeline.ts), and a line per domain event; with `--json`: one JSON object per line for
 * every event except progress redraws.
 */
import type { CairnEvent, EventSink, LockWaited } from '../core/events.js';
import { isProgress } from '../core/events.js';
import { renderEvent, type RenderTarget } from './pipeline.js';
import { createRenderer } from './progress.js';

export interface EventOutputOptions {
  json: boolean;
  quiet: boolean;
  /** where `--json` event lines go: stdout for a line-stream command (repro), else stderr */
  jsonLines: NodeJS.WritableStream;
  /** prefix stage output with `stage | ` (several stages may interleave) */
  prefixStages: boolean;
}

export function lockWaitLine(e: LockWaited): string {
  const lock = e.stage === undefined ? e.lock : `'${e.lock}'`;
  return `Waiting for lock ${lock}, held by pid ${e.pid} (${e.command})…`;
}

export function createEventOutput(o: EventOutputOptions): { sink: EventSink; done: () => void } {
  const progress = createRenderer({
    stream: process.stderr,
    progress: process.stderr.isTTY && !o.json && !o.quiet,
    quiet: o.quiet,
  });
  if (o.json) {
    return {
      sink: (e) => {
        if (!isProgress(e)) o.jsonLines.write(`${JSON.stringify(e)}\n`);
      },
      done: progress.done,
    };
  }
  /** a line on stderr, below any progress lines (which are redrawn on the next event) */
  const note = (line: string, always = false): void => {
    if (o.quiet && !always) return;
    progress.done();
    process.stderr.write(`${line}\n`);
  };
  const stages: RenderTarget = {
    out: (line) => {
      progress.done();
      process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      progress.done();
      process.stderr.write(`${line}\n`);
    },
    prefix: o.prefixStages,
    quiet: o.quiet,
  };
  const sink = (e: CairnEvent): void => {
    switch (e.type) {
      case 'progress':
      case 'phase-done':
      case 'transfer':
      case 'warning':
        progress.sink(e);
        return;
      case 'lock-wait':
        // A stage's wait shows even with --quiet, as repro always did; a command's does not.
        note(lockWaitLine(e), e.stage !== undefined);
        return;
      case 'layer-uploaded':
        note(
          `${e.how === 'mounted' ? `Mounted from ${e.mountedFrom ?? '?'}` : 'Uploaded'} ${e.digest} (${e.size} bytes)`,
        );
        return;
      case 'layer-downloaded':
        note(
          `Downloaded ${e.digest} (${e.size} bytes${e.resumedFrom > 0 ? `, resumed at ${e.resumedFrom}` : ''})`,
        );
        return;
      default:
        renderEvent(e, stages);
    }
  };
  return { sink, done: progress.done };
}
