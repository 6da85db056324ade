/** Typed events the core emits; terminal progress, JSON lines and logs are renderers of these. */

export type CairnEvent =
  | {
      type: 'progress';
      phase: string;
      done: number;
      total?: number;
      bytes?: number;
      totalBytes?: number;
    }
  | { type: 'phase-done'; phase: string; done: number; bytes?: number; ms: number }
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string };

export type EventSink = (event: CairnEvent) => void;

export const ignoreEvents: EventSink = () => undefined;
