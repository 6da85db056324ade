// The test registries behave like the real deployments they stand for: htpasswd Basic auth
// refuses a wrong password, the token server's JWTs are accepted by distribution for exactly
// the scopes granted, TLS serves a cert for 127.0.0.1 from the test CA, and the fault proxy
// forwards faithfully except for the faults it was told to inject.
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import {
  HAVE_OPENSSL,
  HAVE_REGISTRY,
  makeTls,
  startFaultProxy,
  startRegistry,
  startTokenServer,
  type RunningRegistry,
} from './harness.js';

const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function registry(c: Parameters<typeof startRegistry>[0]): Promise<RunningRegistry> {
  const r = await startRegistry(c);
  stops.push(r.stop);
  return r;
}

const basic = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe.skipIf(!(HAVE_REGISTRY && HAVE_OPENSSL) && !required)('registry test harness', () => {
  it('htpasswd registries challenge for Basic and accept only the right password', async () => {
    const r = await registry({ htpasswd: { alice: 's3cret' } });
    const anon = await fetch(`${r.url}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="cairn-test"/);
    const wrong = await fetch(`${r.url}/v2/`, { headers: { authorization: basic('alice', 'x') } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${r.url}/v2/`, {
      headers: { authorization: basic('alice', 's3cret') },
    });
    expect(ok.status).toBe(200);
  });

  it('the token server checks credentials and scopes, and distribution accepts its tokens', async () => {
    const tokens = await startTokenServer({ users: { bob: 'hunter2' } });
    stops.push(tokens.stop);
    const r = await registry({ token: tokens });
    const anon = await fetch(`${r.url}/v2/org/m/tags/list`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toContain(`realm="${tokens.realm}"`);
    const scope = 'repository:org/m:pull,push';
    const q = `service=${tokens.service}&scope=${encodeURIComponent(scope)}`;
    const refused = await fetch(`${tokens.realm}?${q}`, {
      headers: { authorization: basic('bob', 'nope') },
    });
    expect(refused.status).toBe(401);
    const res = await fetch(`${tokens.realm}?${q}`, {
      headers: { authorization: basic('bob', 'hunter2') },
    });
    const body = (await res.json()) as { token: string; expires_in: number };
    expect(body.expires_in).toBe(300);
    const tags = await fetch(`${r.url}/v2/org/m/tags/list`, {
      headers: { authorization: `Bearer ${body.token}` },
    });
    // Authorised: the repository does not exist yet, so NAME_UNKNOWN, not 401.
    expect(tags.status).toBe(404);
    const other = await fetch(`${r.url}/v2/org/other/tags/list`, {
      headers: { authorization: `Bearer ${body.token}` },
    });
    expect(other.status).toBe(401);
    expect(tokens.requests.map((t) => [t.scopes, t.user, t.status])).toEqual([
      [[scope], undefined, 401],
      [[scope], 'bob', 200],
    ]);
  });

  it('TLS registries serve a cert for 127.0.0.1 that only the test CA vouches for', async () => {
    const tls = makeTls();
    const r = await registry({ tls });
    expect(r.url).toMatch(/^https:/);
    await expect(fetch(`${r.url}/v2/`)).rejects.toThrow();
    const agent = new Agent({ connect: { ca: fs.readFileSync(tls.caCert, 'utf8') } });
    const ok = await fetch(`${r.url}/v2/`, { dispatcher: agent });
    expect(ok.status).toBe(200);
    await agent.close();
  });

  it('the fault proxy rewrites Location, counts requests and injects faults by seed', async () => {
    const r = await registry({});
    const proxy = await startFaultProxy(r.url, { seed: 7 });
    stops.push(proxy.stop);
    const start = await fetch(`${proxy.url}/v2/org/m/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    expect(start.headers.get('location')).toMatch(new RegExp(`^${proxy.url}/v2/org/m/blobs/`));
    proxy.set({ errorRate: 1 });
    const failed = await fetch(`${proxy.url}/v2/`);
    expect(failed.status).toBe(500);
    proxy.set({ errorRate: 0, tooManyRate: 1 });
    const busy = await fetch(`${proxy.url}/v2/`);
    expect([busy.status, busy.headers.get('retry-after')]).toEqual([429, '0']);
    proxy.set({ tooManyRate: 0, stallRate: 1, stallMs: 300 });
    const t0 = Date.now();
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    proxy.set({ stallRate: 0 });
    expect(proxy.count('POST', 'upload-start')).toBe(1);
    expect(proxy.count('GET', 'base')).toBe(3);
    expect(proxy.faults()).toBe(3);
  });

  it('the fault proxy cuts large bodies halfway and attributes upload bytes to a digest', async () => {
    const r = await registry({});
    const proxy = await startFaultProxy(r.url, { seed: 3 });
    stops.push(proxy.stop);
    const blob = Buffer.alloc(256 * 1024, 7);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const start = await fetch(`${proxy.url}/v2/org/m/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '');
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      body: blob,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    expect(proxy.bytesSent(digest)).toBe(blob.length);
    // A reset halfway through an upload's body: the client sees the connection die.
    proxy.set({ resetRate: 1 });
    const again = await fetch(`${proxy.url}/v2/org/m/blobs/uploads/`, { method: 'POST' });
    const upload = new URL(again.headers.get('location') ?? '');
    await expect(
      fetch(upload, {
        method: 'PATCH',
        body: blob,
        headers: { 'content-type': 'application/octet-stream' },
      }),
    ).rejects.toThrow();
    const patch = proxy.requests.find((q) => q.method === 'PATCH');
    expect(patch?.fault).toBe('reset-request');
    expect(patch?.bytesIn).toBeLessThan(blob.length);
    for (const fault of ['resetRate', 'truncateRate'] as const) {
      proxy.set({ resetRate: 0, truncateRate: 0, [fault]: 1 });
      const res = await fetch(`${proxy.url}/v2/org/m/blobs/${digest}`);
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow();
    }
    proxy.set({ truncateRate: 0 });
    const whole = await fetch(`${proxy.url}/v2/org/m/blobs/${digest}`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(blob)).toBe(true);
    expect(proxy.requests.filter((q) => q.kind === 'blob').map((q) => q.fault)).toEqual([
      'reset-response',
      'truncate',
      undefined,
    ]);
  });
});
