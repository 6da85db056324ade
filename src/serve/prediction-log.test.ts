import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LOG_FILE,
  PredictionLog,
  readPredictions,
  type PredictionLogOptions,
  type PredictionRecord,
} from './prediction-log.js';
import { jsonTensor, tensorFromJson } from './prediction-record.js';
import type { Tensor } from './types.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-predlog-'));
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = () => path.join(root, `log-${n++}`);

function options(dir: string, extra: Partial<PredictionLogOptions> = {}): PredictionLogOptions {
  return { dir, model: 'iris', version: 'v1', digest: 'sha256:ab', sample: 1, ...extra };
}

async function readAll(dir: string, skipped: number[] = []): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  for await (const r of readPredictions(dir, { onSkip: (_, line) => skipped.push(line) }))
    out.push(r);
  return out;
}

const x = (values: number[]): Tensor => ({
  name: 'X',
  datatype: 'FP32',
  shape: [1, values.length],
  data: new Float32Array(values),
});
const y = (label: string): Tensor => ({
  name: 'label',
  datatype: 'BYTES',
  shape: [1],
  data: [new TextEncoder().encode(label)],
});

describe('prediction log', () => {
  it('writes one JSON line per sampled request with the documented fields', async () => {
    const dir = freshDir();
    const log = PredictionLog.open(
      options(dir, { now: () => new Date('2026-01-02T03:04:05.678Z') }),
    );
    expect(log.record('r1', [x([5.1, 3.5])], [y('setosa')])).toBe(true);
    await log.close();
    const [line] = fs.readFileSync(path.join(dir, LOG_FILE), 'utf8').split('\n');
    expect(JSON.parse(line ?? '')).toEqual({
      time: '2026-01-02T03:04:05.678Z',
      id: 'r1',
      model: 'iris',
      version: 'v1',
      digest: 'sha256:ab',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.099999904632568, 3.5] }],
      outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: ['setosa'] }],
    });
  });

  it('records its sample share of requests', async () => {
    const dir = freshDir();
    let state = 12345;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const log = PredictionLog.open(options(dir, { sample: 0.2, random }));
    let sampled = 0;
    for (let i = 0; i < 5_000; i++) if (log.record(`r${i}`, [x([i])], [])) sampled++;
    await log.close();
    expect((await readAll(dir)).length).toBe(sampled);
    // ±3σ for n = 5000, p = 0.2 is ±85.
    expect(Math.abs(sampled - 1_000)).toBeLessThan(85);
    const none = PredictionLog.open(options(freshDir(), { sample: 0 }));
    expect(none.record('r', [x([1])], [])).toBe(false);
    await none.close();
    expect(() => PredictionLog.open(options(freshDir(), { sample: 1.5 }))).toThrow(
      /between 0 and 1/,
    );
  });

  it('rotates past max bytes, keeps N files, and reads them back oldest first', async () => {
    const dir = freshDir();
    const log = PredictionLog.open(options(dir, { maxBytes: 2_000, keep: 2 }));
    for (let i = 0; i < 100; i++) log.record(`r${i}`, [x([i, i, i])], []);
    await log.close();
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual([LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`]);
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(2_000);
    const ids = (await readAll(dir)).map((r) => Number(r.id.slice(1)));
    // The newest records survive, in order, with nothing missing between them.
    expect(ids.at(-1)).toBe(99);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 100 - ids.length + i));
    expect(ids.length).toBeGreaterThan(10);
  });

  it('cuts off a torn last line on open, so the next record starts on its own line', async () => {
    const dir = freshDir();
    const first = PredictionLog.open(options(dir));
    first.record('whole', [x([1])], []);
    await first.close();
    fs.appendFileSync(path.join(dir, LOG_FILE), '{"time":"2026-01-0');
    const skipped: number[] = [];
    expect((await readAll(dir, skipped)).map((r) => r.id)).toEqual(['whole']);
    expect(skipped).toEqual([2]);

    const second = PredictionLog.open(options(dir));
    second.record('after', [x([2])], []);
    await second.close();
    const after: number[] = [];
    expect((await readAll(dir, after)).map((r) => r.id)).toEqual(['whole', 'after']);
    expect(after).toEqual([]);
  });

  it('keeps every complete line parseable when the writer is killed with SIGKILL', async () => {
    const dir = freshDir();
    const writer = spawn(
      path.resolve(import.meta.dirname, '../../node_modules/.bin/vite-node'),
      [path.resolve(import.meta.dirname, '../../test/serve-ext/prediction-writer.ts'), dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      writer.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('writing')) resolve();
      });
      writer.once('exit', (code) => {
        reject(new Error(`writer exited early with ${code}`));
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    writer.kill('SIGKILL');
    await new Promise((resolve) => writer.once('exit', resolve));

    const text = fs.readFileSync(path.join(dir, LOG_FILE), 'utf8');
    const complete = text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((l) => l !== '');
    for (const line of complete) expect(() => JSON.parse(line) as unknown).not.toThrow();
    const records = await readAll(dir);
    expect(records.length).toBeGreaterThan(10);
    // Records are contiguous across rotations: req-k, req-k+1, …
    const ids = records.map((r) => Number(r.id.slice(4)));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => (ids[0] ?? 0) + i));

    const reopened = PredictionLog.open(options(dir));
    reopened.record('after-crash', [x([1])], []);
    await reopened.close();
    expect((await readAll(dir)).at(-1)?.id).toBe('after-crash');
  });

  it('writes tensors that read back as the same tensors', () => {
    const tensors: Tensor[] = [
      { name: 'i', datatype: 'INT64', shape: [3], data: new BigInt64Array([2n ** 60n, -5n, 0n]) },
      { name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      { name: 'f', datatype: 'FP64', shape: [3], data: new Float64Array([NaN, -Infinity, 0.1]) },
      {
        name: 's',
        datatype: 'BYTES',
        shape: [2],
        data: [new Uint8Array([0xff, 0]), new Uint8Array([65])],
      },
      { name: 'h', datatype: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) },
    ];
    const json = tensors.map(jsonTensor);
    expect(json[0]?.data).toEqual(['1152921504606846976', -5, 0]);
    expect(json[1]?.data).toEqual([true, false]);
    expect(json[2]?.data).toEqual(['NaN', '-Infinity', 0.1]);
    expect(json[3]).toMatchObject({ data: ['/wA=', 'QQ=='], encoding: 'base64' });
    expect(json.map((t) => tensorFromJson(JSON.parse(JSON.stringify(t)) as typeof t))).toEqual(
      tensors,
    );
  });
});
