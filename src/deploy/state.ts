/**
 * The agent's state file: per environment the commit it applied and each model's rollout
 * state, plus the last reconciled revisions (Argo CD keeps 10). Written atomically so a crash
 * leaves the old state or the new one; an append-only JSONL event log beside it feeds
 * `cairn history` and `cairn status`.
 */
import fsp from 'node:fs/promises';
import { CairnError, errnoCode } from '../core/errors.js';
import { readFileOrUndefined, writeFileAtomic } from '../core/fs.js';
import type { Measurement } from './gates.js';
import type { ModelRolloutState } from './rollout-types.js';
import type { ServeSpec } from './worker-config.js';

export const STATE_SCHEMA = 1;
export const HISTORY_KEPT = 10;

/** One pass of the reconcile loop over a git revision. */
export interface ReconciledRevision {
  readonly commit: string;
  /** ms since the epoch */
  readonly at: number;
  readonly result: 'applied' | 'progressing' | 'failed';
  readonly message?: string;
}

export interface EnvironmentState {
  /** the last commit whose declaration was fully applied */
  readonly appliedCommit?: string;
  /** the last commit the agent worked on, applied or not */
  readonly attemptedCommit?: string;
  readonly models: Readonly<Record<string, ModelRolloutState>>;
  /** newest first, at most HISTORY_KEPT */
  readonly history: readonly ReconciledRevision[];
  /** the last commit fetched from git (what is desired) */
  readonly desiredCommit?: string;
  /** why the environment is not what git declares: a fetch, parse or pull error, a refused model */
  readonly reason?: string;
  /** each served model's serve options as last declared, so a restart serves it the same way */
  readonly specs?: Readonly<Record<string, ServeSpec>>;
  /** the environment's worker process while it is up */
  readonly worker?: { readonly pid: number; readonly url: string };
  /** the last gate checks of each model's rollout, oldest first */
  readonly analysis?: Readonly<Record<string, readonly GateCheck[]>>;
}

/** One measurement of a candidate that the gates judged. */
export interface GateCheck {
  /** ms since the epoch */
  readonly at: number;
  readonly version: string;
  /** 0-based rollout step */
  readonly step: number;
  readonly passed: boolean;
  readonly message?: string;
  readonly measurement: Measurement;
}

export interface AgentState {
  readonly schema: typeof STATE_SCHEMA;
  readonly environments: Readonly<Record<string, EnvironmentState>>;
}

export function emptyState(): AgentState {
  return { schema: STATE_SCHEMA, environments: {} };
}

export function emptyEnvironment(): EnvironmentState {
  return { models: {}, history: [] };
}

/** The state at `file`, or an empty one when the agent has never run. */
export async function readState(file: string): Promise<AgentState> {
  const text = await readFileOrUndefined(file);
  if (text === undefined) return emptyState();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CairnError('state-invalid', `${file}: not JSON (${(error as Error).message})`, {
      hint: 'Move the file aside; the agent rebuilds its state from git on the next start.',
    });
  }
  if (typeof raw !== 'object' || raw === null || !('schema' in raw)) {
    throw new CairnError('state-invalid', `${file}: not a cairn agent state (no schema field)`, {
      hint: 'Point --state at the agent state file, or move this one aside.',
    });
  }
  const schema = raw.schema;
  if (schema !== STATE_SCHEMA) {
    const newer = typeof schema === 'number' && schema > STATE_SCHEMA;
    throw new CairnError(
      'state-version',
      `${file}: state schema ${JSON.stringify(schema)}, this cairn reads schema ${String(STATE_SCHEMA)}`,
      {
        hint: newer
          ? 'A newer cairn wrote it: upgrade cairn, or move the file aside to start over.'
          : 'Move the file aside; the agent rebuilds its state from git on the next start.',
      },
    );
  }
  if (
    !('environments' in raw) ||
    typeof raw.environments !== 'object' ||
    raw.environments === null
  ) {
    throw new CairnError('state-invalid', `${file}: no environments object`, {
      hint: 'Move the file aside; the agent rebuilds its state from git on the next start.',
    });
  }
  return raw as AgentState;
}

export async function writeState(file: string, state: AgentState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** `state` with `env` replaced by `update(env)`. */
export function updateEnvironment(
  state: AgentState,
  env: string,
  update: (e: EnvironmentState) => EnvironmentState,
): AgentState {
  const current = state.environments[env] ?? emptyEnvironment();
  return { ...state, environments: { ...state.environments, [env]: update(current) } };
}

/** Adds a reconciled revision, newest first, keeping HISTORY_KEPT. */
export function recordRevision(e: EnvironmentState, entry: ReconciledRevision): EnvironmentState {
  const applied = entry.result === 'applied' ? { appliedCommit: entry.commit } : {};
  return {
    ...e,
    ...applied,
    attemptedCommit: entry.commit,
    history: [entry, ...e.history].slice(0, HISTORY_KEPT),
  };
}

/** `<state>.events.jsonl`: the event log that lives beside a state file. */
export const eventLogPath = (stateFile: string): string =>
  stateFile.replace(/\.json$/, '') + '.events.jsonl';

/**
 * Appends one event as a JSON line. Past `maxBytes` the log is rewritten (atomically) with
 * its newest half, so it stays bounded without ever being empty after a crash.
 */
export async function appendEvent(
  logFile: string,
  event: object,
  maxBytes = 1024 * 1024,
): Promise<void> {
  await fsp.appendFile(logFile, `${JSON.stringify(event)}\n`);
  const { size } = await fsp.stat(logFile);
  if (size <= maxBytes) return;
  const lines = (await fsp.readFile(logFile, 'utf8')).split('\n').filter((l) => l !== '');
  const kept: string[] = [];
  let bytes = 0;
  for (const line of lines.reverse()) {
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > maxBytes / 2) break;
    kept.unshift(line);
  }
  await writeFileAtomic(logFile, kept.map((l) => `${l}\n`).join(''));
}

/** The logged events, oldest first. A line torn by a crash mid-append is skipped. */
export async function readEvents(logFile: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await fsp.readFile(logFile, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  const events: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      // torn by a crash mid-append: the rest of the log is still good
    }
  }
  return events;
}
