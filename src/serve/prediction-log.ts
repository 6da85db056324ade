/**
 * The prediction log: a sampled JSON-lines file per model version (`predictions.jsonl`, rotated
 * to `.1` … `.keep`) recording each sampled request's inputs and outputs, which the drift
 * monitor reads back. Each record is one write(2) of a whole line to an O_APPEND descriptor, so
 * a crash leaves at most a torn last line: opening the log truncates it, and the reader skips it.
 * docs/serving-metrics.md ("Prediction log") documents the record schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { jsonTensor, type JsonTensor } from './prediction-record.js';
import type { Tensor } from './types.js';

export interface PredictionRecord {
  /** ISO 8601, UTC, when the answer was sent */
  readonly time: string;
  readonly id: string;
  readonly model: string;
  readonly version: string;
  /** sha256 digest of the loaded model bytes */
  readonly digest: string;
  readonly inputs: readonly JsonTensor[];
  readonly outputs: readonly JsonTensor[];
}

export interface PredictionLogOptions {
  /** the folder of this model version's log */
  readonly dir: string;
  readonly model: string;
  readonly version: string;
  readonly digest: string;
  /** share of requests recorded, 0 to 1 */
  readonly sample: number;
  /** bytes after which the current file is rotated (default 64 MiB) */
  readonly maxBytes?: number;
  /** rotated files kept besides the current one (default 5) */
  readonly keep?: number;
  readonly random?: () => number;
  readonly now?: () => Date;
  /** a write failed; the request itself is unaffected */
  readonly onError?: (error: unknown) => void;
}

export const LOG_FILE = 'predictions.jsonl';

/** An open prediction log of one model version. */
export class PredictionLog {
  readonly file: string;
  readonly #options: PredictionLogOptions;
  #fd: number;
  #size: number;
  #queue: Promise<void> = Promise.resolve();

  private constructor(options: PredictionLogOptions, fd: number, size: number) {
    this.#options = options;
    this.file = path.join(options.dir, LOG_FILE);
    this.#fd = fd;
    this.#size = size;
  }

  /** Opens (creating) the log in `options.dir`, cutting off a torn last line left by a crash. */
  static open(options: PredictionLogOptions): PredictionLog {
    if (!(options.sample >= 0 && options.sample <= 1)) {
      throw new Error(`prediction log sample must be between 0 and 1, got ${options.sample}`);
    }
    fs.mkdirSync(options.dir, { recursive: true });
    const file = path.join(options.dir, LOG_FILE);
    const size = healTail(file);
    return new PredictionLog(options, fs.openSync(file, 'a'), size);
  }

  /** Samples one answered request; returns whether it will be written. Writes are in order. */
  record(id: string, inputs: readonly Tensor[], outputs: readonly Tensor[]): boolean {
    const o = this.#options;
    if ((o.random ?? Math.random)() >= o.sample) return false;
    const record: PredictionRecord = {
      time: (o.now?.() ?? new Date()).toISOString(),
      id,
      model: o.model,
      version: o.version,
      digest: o.digest,
      inputs: inputs.map(jsonTensor),
      outputs: outputs.map(jsonTensor),
    };
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    this.#queue = this.#queue.then(() => {
      try {
        this.#append(line);
      } catch (error) {
        o.onError?.(error);
      }
    });
    return true;
  }

  /** Waits for every queued record to be written. */
  flush(): Promise<void> {
    return this.#queue;
  }

  async close(): Promise<void> {
    await this.#queue;
    fs.closeSync(this.#fd);
  }

  #append(line: Buffer): void {
    if (this.#size > 0 && this.#size + line.length > (this.#options.maxBytes ?? 64 * 1024 * 1024)) {
      this.#rotate();
    }
    // One write call per whole line: with O_APPEND it lands at the end, never interleaved.
    const written = fs.writeSync(this.#fd, line);
    if (written !== line.length)
      throw new Error(`${this.file}: short write (${written} of ${line.length} bytes)`);
    this.#size += written;
  }

  #rotate(): void {
    fs.closeSync(this.#fd);
    const keep = this.#options.keep ?? 5;
    fs.rmSync(`${this.file}.${keep}`, { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      if (fs.existsSync(`${this.file}.${n}`))
        fs.renameSync(`${this.file}.${n}`, `${this.file}.${n + 1}`);
    }
    if (keep >= 1) fs.renameSync(this.file, `${this.file}.1`);
    else fs.rmSync(this.file, { force: true });
    this.#fd = fs.openSync(this.file, 'a');
    this.#size = 0;
  }
}

/** Truncates `file` after its last newline (a torn record); returns the resulting size. */
function healTail(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - chunk.length);
      const read = fs.readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (newline >= 0) {
        if (start + newline + 1 < size) fs.ftruncateSync(fd, start + newline + 1);
        return start + newline + 1;
      }
      end = start;
    }
    if (size > 0) fs.ftruncateSync(fd, 0);
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every complete record in the log in `dir`, oldest first (rotated files, then the current one).
 * Lines that do not parse — a torn last line while the writer is down — go to `onSkip`.
 */
export async function* readPredictions(
  dir: string,
  options: { onSkip?: (file: string, line: number) => void } = {},
): AsyncGenerator<PredictionRecord> {
  const base = path.join(dir, LOG_FILE);
  const rotated = fs
    .readdirSync(dir)
    .map((name) => /^predictions\.jsonl\.(\d+)$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  const files = [...rotated.map((n) => `${base}.${n}`), base].filter((f) => fs.existsSync(f));
  for (const file of files) {
    const lines = readline.createInterface({
      input: fs.createReadStream(file),
      crlfDelay: Infinity,
    });
    let number = 0;
    for await (const line of lines) {
      number++;
      if (line === '') continue;
      let record: PredictionRecord;
      try {
        record = JSON.parse(line) as PredictionRecord;
      } catch {
        options.onSkip?.(file, number);
        continue;
      }
      yield record;
    }
  }
}
