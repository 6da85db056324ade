/**
 * A queued experiment's log file (`.cairn/tmp/exps/queue/<id>.log`), written while the queue
 * runner runs it in its own process: the stage commands and their output, in the words of
 * `repro`'s own lines, and how the experiment ended. `exp queue logs` prints it as it is.
 */
import fs from 'node:fs';
import type { CairnEvent, EventSink } from '../core/events.js';

export interface EntryLog {
  /** the experiment's events, as log lines */
  sink: EventSink;
  /** one line of the runner's own */
  line: (text: string) => void;
  close: () => void;
}

function eventLine(e: CairnEvent): string | undefined {
  switch (e.type) {
    case 'stage-start':
      return `Running stage '${e.stage}':`;
    case 'stage-command':
      return `> ${e.command}`;
    case 'stage-output':
      // Stages of one experiment may interleave (parallel stages), so each line says whose.
      return `${e.stage} | ${e.text}`;
    case 'stage-skip':
      return e.why === 'unchanged'
        ? `Stage '${e.stage}' didn't change, skipping`
        : `Stage '${e.stage}' not run (${e.why})`;
    case 'stage-cached':
      return `Stage '${e.stage}' is cached - skipping run, checking out outputs`;
    case 'lock-written':
      return `Updating lock file '${e.file}'`;
    case 'stage-failed':
      return `error: ${e.message}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'lock-wait':
      return `Waiting for lock ${e.lock}, held by pid ${String(e.pid)} (${e.command})…`;
    default:
      // progress redraws, transfers: nothing a log needs
      return undefined;
  }
}

/** Opens `file` for appending (a retried entry keeps its earlier runs' lines above). */
export function openEntryLog(file: string): EntryLog {
  const fd = fs.openSync(file, 'a');
  let open = true;
  const line = (text: string): void => {
    if (open) fs.writeSync(fd, `${text}\n`);
  };
  return {
    sink: (e) => {
      const text = eventLine(e);
      if (text !== undefined) line(text);
    },
    line,
    close: () => {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    },
  };
}
