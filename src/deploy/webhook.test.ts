import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyPush, webhookHandler, type PushNotice } from './webhook.js';

const SECRET = 'correct-horse-battery-staple';
const PUSH = JSON.stringify({ ref: 'refs/heads/main', after: 'f'.repeat(40) });
const sign = (body: string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const received: PushNotice[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer(webhookHandler(SECRET, (n) => received.push(n), 4096));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function post(body: string, headers: Record<string, string>) {
  const before = received.length;
  const res = await fetch(url, { method: 'POST', body, headers });
  return {
    status: res.status,
    body: await res.json(),
    pushes: received.slice(before),
  };
}

describe('push webhooks over HTTP', () => {
  test('a GitHub push signed with the secret is accepted and reported', async () => {
    const r = await post(PUSH, { 'x-hub-signature-256': sign(PUSH), 'x-github-event': 'push' });
    expect(r.status).toBe(202);
    expect(r.pushes).toEqual([{ provider: 'github', event: 'push', ref: 'refs/heads/main' }]);
  });

  test('a GitHub push signed with another secret, or a changed body, gets 401 and nothing else', async () => {
    const wrong = await post(PUSH, { 'x-hub-signature-256': sign(PUSH, 'guess') });
    expect(wrong).toEqual({
      status: 401,
      body: { error: 'X-Hub-Signature-256 does not match the body' },
      pushes: [],
    });
    const tampered = await post(PUSH.replace('main', 'evil'), {
      'x-hub-signature-256': sign(PUSH),
    });
    expect(tampered.status).toBe(401);
    expect(tampered.pushes).toEqual([]);
    const malformed = await post(PUSH, { 'x-hub-signature-256': 'sha256=abc' });
    expect(malformed.body).toEqual({ error: 'X-Hub-Signature-256 is not sha256=<64 hex digits>' });
  });

  test('a GitLab push with the token is accepted; a wrong or missing token is not', async () => {
    const ok = await post(PUSH, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' });
    expect(ok.status).toBe(202);
    expect(ok.pushes).toEqual([{ provider: 'gitlab', event: 'Push Hook', ref: 'refs/heads/main' }]);
    const short = await post(PUSH, { 'x-gitlab-token': 'x' });
    expect(short.status).toBe(401);
    const none = await post(PUSH, {});
    expect(none.body).toEqual({
      error: 'neither X-Hub-Signature-256 nor X-Gitlab-Token is present',
    });
    expect([short.pushes, none.pushes]).toEqual([[], []]);
  });

  test('rejections never echo the secret', async () => {
    const near = `${SECRET}!`;
    const r = await post(PUSH, { 'x-gitlab-token': near });
    expect(JSON.stringify(r.body)).not.toContain(SECRET);
    const verdict = verifyPush(
      SECRET,
      { 'x-hub-signature-256': sign('x', near) },
      Buffer.from('y'),
    );
    expect(JSON.stringify(verdict)).not.toContain(SECRET);
  });

  test('anything but POST is 405', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  test('a body over the cap is 413, announced or streamed', async () => {
    const big = 'x'.repeat(10_000);
    const announced = await post(big, { 'x-gitlab-token': SECRET });
    expect(announced).toMatchObject({ status: 413, pushes: [] });
    // Chunked, no Content-Length: the cap is enforced while reading.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'x-gitlab-token': SECRET } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('y'.repeat(1000));
      req.end();
    });
    expect(streamed).toBe(413);
  });

  test('an empty secret is refused when the handler is made', () => {
    expect(() => webhookHandler('', () => undefined)).toThrow(/webhook secret is empty/);
  });
});
