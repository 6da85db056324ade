/** The error family Cairn raises at I/O boundaries; the CLI renders them once, at the edge. */

export interface CairnErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  cause?: unknown;
}

/** An expected failure: bad input, a missing file, a busy lock. Rendered without a stack. */
export class CairnError extends Error {
  override readonly name: string = 'CairnError';
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: CairnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

/** A problem in a user-written file, located at `file:line:col` (1-based). */
export class ManifestError extends CairnError {
  override readonly name = 'ManifestError';
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(
    file: string,
    line: number,
    column: number,
    message: string,
    options: CairnErrorOptions = {},
  ) {
    super('manifest-invalid', `${file}:${line}:${column}: ${message}`, options);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** Bytes whose digest is not the one they were promised to have. */
export class DigestMismatchError extends CairnError {
  override readonly name = 'DigestMismatchError';
  readonly expected: string;
  readonly actual: string;

  constructor(what: string, expected: string, actual: string, options: CairnErrorOptions = {}) {
    super('digest-mismatch', `${what}: expected digest ${expected}, got ${actual}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A lock another live process holds past our timeout. */
export class LockTimeoutError extends CairnError {
  override readonly name = 'LockTimeoutError';
}

export function isCairnError(error: unknown): error is CairnError {
  return error instanceof CairnError;
}

/** Node's system errors carry a string `code` such as ENOENT. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/** For `switch` statements over unions: the compiler proves this is never reached. */
export function unreachable(value: never): never {
  throw new Error(`Internal error: unexpected value ${JSON.stringify(value)}`);
}
