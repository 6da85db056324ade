/**
 * Structured logs for the long-running processes (`cairn serve`, later `cairn agent`): pino,
 * JSON lines when stderr is a pipe or file, one readable line per record on a terminal.
 * Credentials and request payloads never reach a log: known secret-bearing fields are redacted
 * by pino, and callers log request metadata (ids, model, status, timings) only.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level name; default `info` */
  readonly level?: string;
  /** where records go; default process.stderr */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** force the readable form (true) or JSON (false); default: readable on a TTY */
  readonly pretty?: boolean;
  /** fixed fields on every record, e.g. `{component: 'serve'}` */
  readonly base?: Record<string, unknown>;
}

/** Paths pino replaces with `[redacted]` wherever a caller logs such an object. */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'token',
  'secret',
  'headers.authorization',
  'headers.cookie',
  'headers["x-hub-signature-256"]',
  'headers["x-gitlab-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'inputs',
  'outputs',
  'data',
] as const;

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const pretty = options.pretty ?? stream.isTTY === true;
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pretty ? readable(stream) : stream,
  );
}

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** `12:00:01 INFO  listening port=8080 models=2`: one line per JSON record pino writes. */
function readable(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') out.write(`${formatRecord(line)}\n`);
      }
      done();
    },
  });
}

export function formatRecord(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, ...fields } = record;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const name = (typeof level === 'number' ? LEVELS[level] : undefined) ?? String(level);
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const message = typeof msg === 'string' ? msg : JSON.stringify(msg ?? '');
  return [clock, name.padEnd(5), message, rest].filter((s) => s !== '').join(' ');
}
