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
  | {
      /** one blob moving to or from a registry: a bar of its own on a terminal */
      type: 'transfer';
      /** the blob's digest */
      id: string;
      label: string;
      /** bytes so far (including any resumed from an earlier run) */
      bytes: number;
      /** bytes in all */
      total: number;
      done: boolean;
    }
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string };

export type EventSink = (event: CairnEvent) => void;

export const ignoreEvents: EventSink = () => undefined;
