/** The error family Cairn raises at I/O boundaries; the CLI renders them once, at the edge. */

/**
 * Every code a CairnError carries. The strings are stable: `--json` output and scripts match
 * on them, so a new failure adds a member here rather than reusing a near miss.
 */
export type ErrorCode =
  // The GitOps agent (src/deploy)
  | 'duration-invalid'
  | 'git-branch-missing'
  | 'git-fetch-failed'
  | 'metrics-invalid'
  | 'metrics-unreachable'
  | 'prometheus-query-failed'
  | 'state-invalid'
  | 'state-version'
  | 'webhook-secret-empty'
  | 'webhook-secret-missing'
  | 'no-environment'
  | 'environment-unknown'
  // Files the user wrote and flags they passed
  | 'manifest-invalid'
  | 'bad-flag'
  | 'bad-env'
  | 'bad-filter'
  | 'bad-reference'
  | 'config-invalid'
  | 'config-too-large'
  | 'config-unknown-key'
  | 'config-unset'
  | 'source-date-epoch'
  | 'params-py'
  // The repository and its locks
  | 'already-initialised'
  | 'not-a-repo'
  | 'not-a-git-repo'
  | 'git-failed'
  | 'lock-dir-missing'
  | 'lock-timeout'
  | 'exists'
  | 'digest-mismatch'
  // Data tracking (add, status, checkout)
  | 'add-dvc-file'
  | 'checkout-would-lose-data'
  | 'file-changing'
  | 'file-unreadable'
  | 'manifest-corrupt'
  | 'no-targets'
  | 'output-missing'
  | 'overlapping-output'
  | 'path-not-found'
  | 'path-outside-repo'
  | 'path-reserved'
  | 'pipeline-output'
  | 'symlink-loop'
  | 'unknown-target'
  | 'unsupported-file'
  // Data remotes (cache objects pushed and pulled: exp push/pull)
  | 'data-remote-unset'
  | 'data-remote-unknown'
  | 'data-remote-unsupported'
  | 'object-missing'
  | 'git-remote-unknown'
  // Pipelines
  | 'dvcfile-in-output'
  | 'output-duplicated'
  | 'output-overlap'
  | 'pipeline-cycle'
  // ModelKits and their tar layers
  | 'no-kitfile'
  | 'not-a-modelkit'
  | 'bad-layer'
  | 'blob-vanished'
  | 'file-changed'
  | 'layer-path-missing'
  | 'layer-too-large'
  | 'no-space'
  | 'ref-cycle'
  | 'shared-manifest'
  | 'tag-digest'
  | 'tar-duplicate'
  | 'tar-invalid'
  | 'tar-truncated'
  | 'tar-unsafe-path'
  | 'tar-unsafe-type'
  // OCI registries, credentials and the local store
  | 'reference-invalid'
  | 'registry-name'
  | 'registry-required'
  | 'registry-status'
  | 'registry-protocol'
  | 'registry-auth-realm'
  | 'registry-unauthorized'
  | 'registry-unreachable'
  | 'registry-tls'
  | 'remote-unsupported'
  | 'repository-unknown'
  | 'manifest-unknown'
  | 'blob-missing'
  | 'not-found'
  | 'no-subject'
  | 'tag-required'
  | 'index-invalid'
  | 'store-corrupt'
  | 'size-mismatch'
  | 'too-large'
  | 'truncated'
  | 'upload-offset'
  | 'credential-helper'
  | 'credentials-file'
  | 'tls-file'
  | 'login-cancelled'
  | 'login-failed'
  | 'login-input'
  | 'unauthorized'
  // Serving (cairn serve)
  | 'serve-config-missing'
  | 'no-source'
  | 'no-model'
  | 'model-missing'
  | 'model-unreadable'
  | 'modelkit-corrupt'
  | 'bad-model'
  | 'unsupported-model'
  | 'duplicate-model'
  | 'unknown-model'
  | 'listen-failed'
  | 'serve-reload'
  // Deployment (environments, GitOps, rendering)
  | 'environment-missing'
  | 'nothing-to-commit'
  | 'canary-invalid'
  | 'push-no-upstream'
  | 'push-rejected'
  | 'revision-invalid'
  | 'render-invalid-name'
  | 'render-needs-digest'
  | 'render-target-invalid'
  // Metrics, params, plots and reports (src/metrics)
  | 'plot-invalid'
  | 'plot-template-unknown'
  | 'plot-render-failed'
  // CI reports on forges (cairn comment, cairn ci init)
  | 'forge-unknown'
  | 'forge-repo-missing'
  | 'forge-token-missing'
  | 'forge-unauthorized'
  | 'forge-forbidden'
  | 'forge-not-found'
  | 'forge-status'
  | 'forge-unreachable'
  | 'comment-target'
  | 'comment-too-long'
  /** an HTTP status a registry answered with and no better code describes */
  | `http-${number}`;

export interface CairnErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  cause?: unknown;
}

/** An expected failure: bad input, a missing file, a busy lock. Rendered without a stack. */
export class CairnError extends Error {
  override readonly name: string = 'CairnError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: CairnErrorOptions = {}) {
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
