/**
 * How registry requests fail: an unexpected answer (`RegistryError`, with the status, method,
 * URL and the registry's OCI error code) or no answer at all (`TransportError`: reset, timeout,
 * refused, an untrusted certificate), and which of those are worth retrying.
 */
import { CairnError, type CairnErrorOptions, type ErrorCode } from '../../core/errors.js';

/** A registry answered with a status the request did not expect. */
export class RegistryError extends CairnError {
  override readonly name = 'RegistryError';
  readonly status: number;
  readonly method: string;
  readonly url: string;
  /** The OCI error code from the body (`MANIFEST_UNKNOWN`, `BLOB_UPLOAD_INVALID`, …), if any. */
  readonly ociCode: string | undefined;

  constructor(
    o: { status: number; method: string; url: string; ociCode?: string; detail: string },
    hint?: string,
  ) {
    super(
      o.status === 401 ? 'unauthorized' : `http-${o.status}`,
      `${o.method} ${o.url}: ${o.status}${o.ociCode === undefined ? '' : ` ${o.ociCode}`}${o.detail === '' ? '' : `: ${o.detail}`}`,
      hint === undefined ? {} : { hint },
    );
    this.status = o.status;
    this.method = o.method;
    this.url = o.url;
    this.ociCode = o.ociCode;
  }
}

/** The connection failed or the body ended early: the request may be retried or resumed. */
export class TransportError extends CairnError {
  override readonly name = 'TransportError';
  /** a reset or timeout worth retrying, not a certificate or a refused connection */
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, transient: boolean, options: CairnErrorOptions) {
    super(code, message, options);
    this.transient = transient;
  }
}

/** The error code of a failure or of its cause (undici wraps socket and TLS errors). */
export function failureCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const own = (error as { code?: unknown }).code;
  const cause = (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof cause === 'string' && (typeof own !== 'string' || own === 'UND_ERR_SOCKET'))
    return cause;
  return typeof own === 'string' ? own : undefined;
}

/** Certificate problems: retrying cannot help, the TLS flags can. */
export function isCertificateFailure(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (code.startsWith('ERR_TLS') ||
      code.includes('CERT') ||
      code.startsWith('UNABLE_TO') ||
      code === 'EPROTO' ||
      code === 'ERR_SSL_WRONG_VERSION_NUMBER')
  );
}

/** A network-level failure (reset, refused, timeout, truncated body) rather than an answer. */
export function isTransportFailure(error: unknown): boolean {
  if (error instanceof TransportError) return error.transient;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    (code.startsWith('UND_ERR') ||
      ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'].includes(code))
  );
}

export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (failureCode(error) === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return 'the TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER)';
  }
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code =
    (cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}
