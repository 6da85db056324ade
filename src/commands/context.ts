/** What every command function receives from its caller (the CLI, the library, tests). */
import type { EventSink } from '../core/events.js';

export interface CommandContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** every event the command emits (src/core/events.ts) */
  sink: EventSink;
  /** aborted when the caller gives up (the CLI: SIGINT, SIGTERM) */
  signal?: AbortSignal;
}
