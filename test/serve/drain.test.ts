/**
 * Draining in-process: new connections are refused at once, a request in flight finishes, and
 * one that outlives the drain timeout is cut off and counted rather than waited for forever.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { buildModels, ONNX_MISSING } from './models.js';
import { call, serving } from './client.js';

const body = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
);

/** Sends the first bytes of an inference request; `finish` sends the rest. */
function halfSent(port: number) {
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v2/models/mlp/infer',
    headers: { 'content-length': body.length },
    agent: false,
  });
  const answer = new Promise<number | Error>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', resolve);
  });
  req.write(body.subarray(0, 5));
  return { answer, finish: () => req.end(body.subarray(5)) };
}

describe.skipIf(ONNX_MISSING !== undefined)('drain', () => {
  it('refuses new connections, finishes the request in flight, and reports a clean drain', async () => {
    const models = buildModels();
    try {
      const server = await serving([models.mlp]);
      const pending = halfSent(server.port);
      await new Promise((r) => setTimeout(r, 100));
      const drained = server.drain(5_000);
      await new Promise((r) => setTimeout(r, 50));
      await expect(call(server, 'GET', '/v2/health/live')).rejects.toThrow(/ECONNREFUSED/);
      pending.finish();
      expect(await pending.answer).toBe(200);
      expect(await drained).toEqual({ drained: true, abandoned: 0 });
    } finally {
      models.remove();
    }
  });

  it('cuts off a request that outlives the drain timeout', async () => {
    const models = buildModels();
    try {
      const server = await serving([models.mlp]);
      const stuck = halfSent(server.port);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      expect(await server.drain(300)).toEqual({ drained: false, abandoned: 1 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await stuck.answer).toBeInstanceOf(Error);
    } finally {
      models.remove();
    }
  });
});
