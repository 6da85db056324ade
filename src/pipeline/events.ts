/** What `repro` reports as it goes: its part of the event union (src/core/events.ts). */
import type { EventSink, ReproEvent, StageFailure } from '../core/events.js';

export type { ReproEvent, StageFailure };

/** repro's events travel through the same sink as every other event. */
export type ReproSink = EventSink;

export function failureMessage(stage: string, f: StageFailure, where: string): string {
  switch (f.reason) {
    case 'exit-non-zero':
      return `stage '${stage}' (${where}) failed: \`${f.command}\` ${f.signal !== null ? `was killed by ${f.signal}` : `exited with code ${String(f.status)}`}`;
    case 'missing-output':
      return `stage '${stage}' (${where}) did not produce ${f.paths.map((p) => `'${p}'`).join(', ')}`;
    case 'missing-dep':
      return `stage '${stage}' (${where}): dependency ${f.paths.map((p) => `'${p}'`).join(', ')} does not exist`;
    case 'missing-param':
      return `stage '${stage}' (${where}): param ${f.keys.map((k) => `'${k}'`).join(', ')} not found in '${f.file}'`;
    case 'frozen-missing-output':
      return `stage '${stage}' (${where}) is frozen and its outputs ${f.paths.map((p) => `'${p}'`).join(', ')} are missing`;
    case 'error':
      return `stage '${stage}' (${where}): ${f.message}`;
    default:
      return unreachableFailure(f);
  }
}

function unreachableFailure(f: never): never {
  throw new Error(`Internal error: unexpected failure ${JSON.stringify(f)}`);
}
