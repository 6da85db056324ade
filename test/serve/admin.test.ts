/**
 * The admin route's guard: traffic weights change only from a loopback caller. A server on
 * 0.0.0.0 is reached once over 127.0.0.1 (allowed) and once over this machine's own
 * non-loopback address (403), when it has one.
 */
import os from 'node:os';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type ServeHandle } from '../../src/commands/serve.js';
import { isLoopback } from '../../src/serve/admin.js';
import { ctx } from './client.js';
import { buildModels, ONNX_MISSING, type TestModels } from './models.js';

const external = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

function put(host: string, port: number, body: unknown): Promise<{ status: number; text: string }> {
  const bytes = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method: 'PUT', path: '/v2/admin/models/mlp/traffic', agent: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

describe('loopback addresses', () => {
  it('are 127/8 and ::1, also IPv4-mapped, and nothing else', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(a), a).toBe(true);
    }
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', '', undefined]) {
      expect(isLoopback(a), String(a)).toBe(false);
    }
  });
});

describe.skipIf(ONNX_MISSING !== undefined || external === undefined)('admin route', () => {
  let models: TestModels;
  let server: ServeHandle;
  beforeAll(async () => {
    models = buildModels();
    server = await serve(ctx(process.cwd()), {
      sources: [`mlp=${models.mlp}`],
      host: '0.0.0.0',
      port: 0,
      maxBody: 1 << 20,
      threads: 1,
    });
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    models.remove();
  });

  it('answers 403 to a caller on a non-loopback address and 200 to a local one', async () => {
    const version = server.models[0]?.version ?? '';
    const weights = { weights: { [version]: 100 } };
    const remote = await put(external ?? '', server.port, weights);
    expect(remote.status, remote.text).toBe(403);
    expect(remote.text).toContain('loopback');
    const local = await put('127.0.0.1', server.port, weights);
    expect(local.status, local.text).toBe(200);
    const bad = await put('127.0.0.1', server.port, { weights: { [version]: 'all' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('add up to 100');
  });

  it('reads the live weights back with GET, for loopback callers only', async () => {
    const version = server.models[0]?.version ?? '';
    const local = await fetch(
      `http://127.0.0.1:${String(server.port)}/v2/admin/models/mlp/traffic`,
    );
    expect(local.status).toBe(200);
    expect(await local.json()).toEqual({ model: 'mlp', weights: { [version]: 100 } });
    const unknown = await fetch(
      `http://127.0.0.1:${String(server.port)}/v2/admin/models/nope/traffic`,
    );
    expect(unknown.status).toBe(404);
    const remote = await fetch(
      `http://${external ?? ''}:${String(server.port)}/v2/admin/models/mlp/traffic`,
    );
    expect(remote.status).toBe(403);
  });
});
