/** What every command function receives from its caller (the CLI, the library, tests). */
import type { EventSink } from '../core/events.js';

export interface CommandContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** progress and warnings */
  sink: EventSink;
}
