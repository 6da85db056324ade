/**
 * The one typed event union Cairn emits while it works: progress for a terminal, and domain
 * events (a layer uploaded, a stage skipped, a lock waited for). The terminal renderer, the
 * `--json` line stream, and later the server and the agent all consume these; none carries
 * pre-written text except warnings and failure messages (which are errors' messages).
 */

// Progress: redraw hints for a terminal, not part of the `--json` line stream.

export interface ProgressEvent {
  type: 'progress';
  phase: string;
  done: number;
  total?: number;
  /** bytes */
  bytes?: number;
  /** bytes */
  totalBytes?: number;
}

export interface PhaseDone {
  type: 'phase-done';
  phase: string;
  done: number;
  /** bytes */
  bytes?: number;
  ms: number;
}

/** One blob moving to or from a registry: a bar of its own on a terminal. */
export interface BlobProgress {
  type: 'transfer';
  /** the blob's digest */
  id: string;
  mediaType: string;
  /** bytes so far (including any resumed from an earlier run) */
  bytes: number;
  /** bytes in all */
  total: number;
  done: boolean;
}

// Domain events.

export interface Warning {
  type: 'warning';
  message: string;
}

/** A command waits for a lock another process holds. */
export interface LockWaited {
  type: 'lock-wait';
  /** the lock file; for a stage, the output path whose lock it waits for */
  lock: string;
  pid: number;
  /** what the holder runs */
  command: string;
  /** set when a repro stage waits */
  stage?: string;
}

/** A blob reached the registry (push); `mounted` from another repository there. */
export interface LayerUploaded {
  type: 'layer-uploaded';
  digest: string;
  /** bytes */
  size: number;
  how: 'uploaded' | 'mounted';
  /** the repository it was mounted from */
  mountedFrom?: string;
}

/** A blob came from the registry (pull). */
export interface LayerDownloaded {
  type: 'layer-downloaded';
  digest: string;
  /** bytes */
  size: number;
  /** bytes already on disk from an interrupted run (0: a fresh download) */
  resumedFrom: number;
}

/** Why a stage failed. */
export type StageFailure =
  | { reason: 'exit-non-zero'; command: string; status: number | null; signal: string | null }
  | { reason: 'missing-output'; paths: string[] }
  | { reason: 'missing-dep'; paths: string[] }
  | { reason: 'missing-param'; file: string; keys: string[] }
  | { reason: 'frozen-missing-output'; paths: string[] }
  | { reason: 'error'; message: string };

export interface StageStarted {
  type: 'stage-start';
  stage: string;
  changes: unknown[];
  forced: boolean;
}
export interface StageSkipped {
  type: 'stage-skip';
  stage: string;
  why: 'unchanged' | 'upstream-failed' | 'not-reached';
}
export interface StageCommand {
  type: 'stage-command';
  stage: string;
  command: string;
}
export interface StageOutput {
  type: 'stage-output';
  stage: string;
  stream: 'stdout' | 'stderr';
  /** one line, without its newline */
  text: string;
}
export interface StageCached {
  type: 'stage-cached';
  stage: string;
}
export interface StageDone {
  type: 'stage-done';
  stage: string;
  ms: number;
  how: 'ran' | 'run-cache' | 'dry';
}
export interface StageFailed {
  type: 'stage-failed';
  stage: string;
  ms: number;
  failure: StageFailure;
  /** the failure as an error message (what, where) */
  message: string;
}
export interface LockWritten {
  type: 'lock-written';
  stage: string;
  /** the dvc.lock, relative to the repository root */
  file: string;
}

/** What `repro` reports as it goes. */
export type ReproEvent =
  | StageStarted
  | StageSkipped
  | StageCommand
  | StageOutput
  | StageCached
  | StageDone
  | StageFailed
  | LockWritten
  | LockWaited
  | Warning;

export type CairnEvent =
  | ProgressEvent
  | PhaseDone
  | BlobProgress
  | Warning
  | LockWaited
  | LayerUploaded
  | LayerDownloaded
  | ReproEvent;

export type EventSink = (event: CairnEvent) => void;

export const ignoreEvents: EventSink = () => undefined;

/** True for the events that only redraw a terminal (left out of `--json` line streams). */
export function isProgress(e: CairnEvent): e is ProgressEvent | PhaseDone | BlobProgress {
  return e.type === 'progress' || e.type === 'phase-done' || e.type === 'transfer';
}
