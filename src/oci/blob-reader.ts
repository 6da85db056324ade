/**
 * Reading a blob whole and hashing it, for a reader that needs all its bytes in memory
 * (`cairn serve` handing a model to ONNX Runtime). A worker thread was tried for the read and
 * hash: its start alone (~100 ms here) cost more than the ~45 ms it took off the main thread.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';

export interface ReadBlob {
  readonly bytes: Buffer;
  /** `sha256:<hex>` of the bytes */
  readonly digest: string;
}

/** A read that failed: the errno code (ENOENT, ...) when the system gave one. */
export class BlobReadError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/** The size on disk differs from the size expected. */
export class BlobSizeError extends Error {
  readonly size: number;
  constructor(size: number) {
    super(`the blob is ${String(size)} bytes`);
    this.size = size;
  }
}

/**
 * Reads `file`, which must be `size` bytes, and hashes it. One positional read into a buffer
 * of the right size (not readFile's 512 KiB rounds, each a trip through the main thread), so
 * the read and its page faults stay on the thread pool. A missing or unreadable file is a
 * BlobReadError, another size a BlobSizeError.
 */
export async function readAndHash(file: string, size: number): Promise<ReadBlob> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new BlobReadError(e.message, e.code);
  }
  try {
    const actual = (await handle.stat()).size;
    if (actual !== size) throw new BlobSizeError(actual);
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) throw new BlobSizeError(filled);
      filled += bytesRead;
    }
    return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
  } finally {
    await handle.close();
  }
}
