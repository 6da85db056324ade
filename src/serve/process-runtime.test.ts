import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcessRuntime, type ProcessEvent, type ProcessRuntime } from './process-runtime.js';
import { InferError, type InferRequest } from './types.js';

const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SERVER = path.resolve(import.meta.dirname, '../../test/serve-ext/oip_server.py');
const COMMAND = `exec ${PYTHON} ${SERVER}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-process-'));
const started: ProcessRuntime[] = [];

afterAll(async () => {
  await Promise.all(started.map((r) => r.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(
  env: Record<string, string> = {},
  extra: { drainMs?: number; healthMs?: number } = {},
) {
  const events: ProcessEvent[] = [];
  const runtime = await startProcessRuntime({
    command: COMMAND,
    model: 'doubler',
    env,
    pollMs: 25,
    backoffMs: 100,
    startTimeoutMs: 20_000,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  started.push(runtime);
  return { runtime, events };
}

const request = (values: number[][]): InferRequest => ({
  id: 'req-1',
  inputs: [
    {
      name: 'X',
      datatype: 'FP32',
      shape: [values.length, 2],
      data: new Float32Array(values.flat()),
    },
  ],
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('process runtime', () => {
  it('waits for readiness, reads the metadata and proxies inference', async () => {
    const { runtime, events } = await start({ READY_DELAY: '0.3' });
    expect(runtime.ready()).toBe(true);
    expect(runtime.platform).toBe('python_stdlib');
    expect(runtime.inputs).toEqual([{ name: 'X', datatype: 'FP32', shape: [-1, 2] }]);
    expect(runtime.outputs).toEqual([{ name: 'Y', datatype: 'FP32', shape: [-1, 2] }]);
    const [y] = await runtime.infer(
      request([
        [1, 2],
        [3.5, -4],
      ]),
    );
    expect(y?.shape).toEqual([2, 2]);
    expect([...(y?.data as Float32Array)]).toEqual([2, 4, 7, -8]);
    const bad = runtime.infer({
      id: 'b',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }],
    });
    await expect(bad).rejects.toThrow(/X must be FP32 with shape \[n, 2\]/);
    await expect(bad).rejects.toMatchObject({ reason: 'bad-request' });
    expect(events.map((e) => e.type)).toEqual(['process-started', 'process-ready']);
  });

  it('answers unavailable after its process dies, then recovers after a restart', async () => {
    const { runtime, events } = await start();
    const pid = runtime.pid ?? -1;
    process.kill(-pid, 'SIGKILL');
    await until(() => !runtime.ready());
    const during = runtime.infer(request([[1, 1]]));
    await expect(during).rejects.toBeInstanceOf(InferError);
    await expect(during).rejects.toMatchObject({ reason: 'unavailable' });
    await until(() => runtime.ready());
    expect(runtime.pid).not.toBe(pid);
    const [y] = await runtime.infer(request([[5, 6]]));
    expect([...(y?.data as Float32Array)]).toEqual([10, 12]);
    expect(events.map((e) => e.type)).toEqual([
      'process-started',
      'process-ready',
      'process-exited',
      'process-restart',
      'process-started',
      'process-ready',
    ]);
    expect(events[2]).toMatchObject({ signal: 'SIGKILL' });
  });

  it('turns unready while its process says it is not ready, without restarting it', async () => {
    const flag = path.join(tmp, 'ready');
    fs.writeFileSync(flag, '');
    const { runtime, events } = await start({ READY_FILE: flag }, { healthMs: 50 });
    const pid = runtime.pid;
    fs.rmSync(flag);
    await until(() => !runtime.ready());
    await expect(runtime.infer(request([[1, 1]]))).rejects.toMatchObject({ reason: 'unavailable' });
    fs.writeFileSync(flag, '');
    await until(() => runtime.ready());
    expect(runtime.pid).toBe(pid);
    expect(events.map((e) => e.type)).toEqual([
      'process-started',
      'process-ready',
      'process-unready',
      'process-ready',
    ]);
  });

  it('drains on close: SIGTERM first, SIGKILL only for a process that ignores it', async () => {
    const marker = path.join(tmp, 'sigterm');
    const polite = await start({ SIGTERM_MARKER: marker });
    const politePid = polite.runtime.pid ?? -1;
    await polite.runtime.close();
    expect(fs.existsSync(marker)).toBe(true);
    expect(alive(politePid)).toBe(false);
    expect(polite.events.at(-1)).toMatchObject({ type: 'process-exited', code: 0 });

    const stubborn = await start({ IGNORE_SIGTERM: '1' }, { drainMs: 300 });
    const stubbornPid = stubborn.runtime.pid ?? -1;
    const closing = performance.now();
    await stubborn.runtime.close();
    expect(performance.now() - closing).toBeGreaterThanOrEqual(250);
    expect(alive(stubbornPid)).toBe(false);
    expect(stubborn.events.at(-1)).toMatchObject({ type: 'process-exited', signal: 'SIGKILL' });
    // Closed for good: no restart follows.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stubborn.events.filter((e) => e.type === 'process-started')).toHaveLength(1);
    await expect(stubborn.runtime.infer(request([[1, 1]]))).rejects.toMatchObject({
      reason: 'unavailable',
    });
  });

  it('fails to start with the command output when the process never gets ready', async () => {
    const attempt = startProcessRuntime({
      command: `echo "model file missing" >&2; exit 3`,
      model: 'doubler',
      pollMs: 25,
      backoffMs: 50,
      maxBackoffMs: 100,
      startTimeoutMs: 600,
    });
    await expect(attempt).rejects.toThrow(
      /was not ready on \/v2\/health\/ready within 600 ms; its last output:\n[^]*model file missing/,
    );
  });
});
