/**
 * Reading a request body under a size limit: a declared Content-Length over the limit is
 * refused before a byte is read, and a body that grows past it stops being read at once —
 * a 100 MB upload to a 1 MB server costs 1 MB, not 100.
 */
import type { IncomingMessage } from 'node:http';
import { InferError } from './types.js';

function tooLarge(limit: number): InferError {
  return new InferError(
    'too-large',
    `the request body is larger than ${limit} bytes (--max-body); send smaller batches or raise the limit`,
  );
}

/** The whole body as one Buffer, or an InferError: `too-large` (413) or `bad-request`. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // A client that goes away mid-body is an `error` (ECONNRESET, "aborted") since Node 16; no
    // separate (deprecated) `aborted` listener is needed.
    const onError = (error: NodeJS.ErrnoException): void => {
      cleanup();
      reject(
        new InferError(
          'bad-request',
          error.code === 'ECONNRESET'
            ? 'the client went away before sending the whole body'
            : `the request body could not be read: ${error.message}`,
        ),
      );
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The `Inference-Header-Content-Length` header as a byte count, when present. */
export function inferenceHeaderLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['inference-header-content-length'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[0] : raw;
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InferError(
      'bad-request',
      `Inference-Header-Content-Length must be a byte count, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
