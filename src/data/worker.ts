/** Worker-thread entry: runs scan and hash jobs sent by {@link WorkerPool}. */
import { parentPort } from 'node:worker_threads';
import { isCairnError, type ErrorCode } from '../core/errors.js';
import { attachStored, storedOf, type CacheLayout } from './cache.js';
import { hashFile, type FileStat } from './hash.js';
import { scanUnit, type ScanRequest } from './scan.js';

export type Job =
  | { kind: 'scan'; request: ScanRequest }
  | {
      kind: 'hash';
      files: { abs: string; size: number }[];
      store: CacheLayout | undefined;
      legacy: boolean;
    };

export interface HashJobResult {
  md5s: string[];
  stats: FileStat[];
  /** md5s of the objects this job wrote into the cache */
  stored: string[];
}

export type JobReply =
  | { ok: true; value: unknown }
  | {
      ok: false;
      error: {
        message: string;
        hint: string | undefined;
        /** objects stored before the failure */
        stored: string[];
      } & ({ internal: false; code: ErrorCode } | { internal: true; code: 'internal' });
    };

async function run(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'scan':
      return scanUnit(job.request);
    case 'hash': {
      const result: HashJobResult = { md5s: [], stats: [], stored: [] };
      try {
        for (const f of job.files) {
          const h = await hashFile(f.abs, f.size, job.store, undefined, job.legacy);
          result.md5s.push(h.md5);
          result.stats.push(h.stat);
          if (h.stored) result.stored.push(h.md5);
        }
      } catch (error) {
        attachStored(error, result.stored);
        throw error;
      }
      return result;
    }
  }
}

parentPort?.on('message', (message: { id: number; job: Job }) => {
  run(message.job).then(
    (value) => {
      parentPort?.postMessage({ id: message.id, reply: { ok: true, value } satisfies JobReply });
    },
    (error: unknown) => {
      const reply: JobReply = {
        ok: false,
        error: isCairnError(error)
          ? {
              code: error.code,
              message: error.message,
              hint: error.hint,
              internal: false,
              stored: storedOf(error),
            }
          : {
              code: 'internal',
              message: error instanceof Error ? (error.stack ?? error.message) : String(error),
              hint: undefined,
              internal: true,
              stored: storedOf(error),
            },
      };
      parentPort?.postMessage({ id: message.id, reply });
    },
  );
});
