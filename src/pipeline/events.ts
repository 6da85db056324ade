/** What `repro` reports as it goes; the CLI renders these as text or JSON lines. */

export type StageFailure =
  | { reason: 'exit-non-zero'; command: string; status: number | null; signal: string | null }
  | { reason: 'missing-output'; paths: string[] }
  | { reason: 'missing-dep'; paths: string[] }
  | { reason: 'missing-param'; file: string; keys: string[] }
  | { reason: 'frozen-missing-output'; paths: string[] }
  | { reason: 'error'; message: string };

export type ReproEvent =
  | { type: 'stage-start'; stage: string; changes: unknown[]; forced: boolean }
  | { type: 'stage-skip'; stage: string; why: 'unchanged' | 'upstream-failed' | 'not-reached' }
  | { type: 'stage-command'; stage: string; command: string }
  | { type: 'stage-output'; stage: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'stage-cached'; stage: string }
  | { type: 'stage-done'; stage: string; ms: number; how: 'ran' | 'run-cache' | 'dry' }
  | { type: 'stage-failed'; stage: string; ms: number; failure: StageFailure; message: string }
  | { type: 'lock-written'; stage: string; file: string }
  | { type: 'wait'; stage: string; message: string }
  | { type: 'warning'; message: string };

export type ReproSink = (event: ReproEvent) => void;

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
