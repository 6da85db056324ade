import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { Notifier, toNotification, type NotificationEvent } from './notify.js';
import type { RolloutEvent } from './rollout-types.js';

const DIGEST = `reg.local/acme/churn@sha256:${'b'.repeat(64)}`;
const aborted: RolloutEvent = {
  reason: 'RolloutAborted',
  severity: 'error',
  model: 'churn',
  digest: DIGEST,
  commit: 'c'.repeat(40),
  step: 2,
  weight: 25,
  message: 'error rate 5% > 1%',
};
const AT = new Date('2026-12-03T09:00:00.000Z');

/** A receiver that records what it gets and answers with `statuses` in turn (then 200). */
async function receiver(statuses: number[] = [], hang = false) {
  const got: { method: string; type: string; body: NotificationEvent }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({
        method: req.method ?? '',
        type: req.headers['content-type'] ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as NotificationEvent,
      });
      if (hang) return;
      res.writeHead(statuses.shift() ?? 200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hooks/t0ken`,
    got,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('rollout notifications', () => {
  test('an event arrives as a Flux-style JSON POST', async () => {
    await using hook = await receiver();
    const notifier = new Notifier(hook.url);
    notifier.send(toNotification('prod', aborted, AT));
    await notifier.drain();
    expect(hook.got).toEqual([
      {
        method: 'POST',
        type: 'application/json',
        body: {
          involvedObject: { kind: 'Environment', name: 'prod' },
          severity: 'error',
          reason: 'RolloutAborted',
          message: 'churn: error rate 5% > 1%',
          metadata: {
            model: 'churn',
            digest: DIGEST,
            commit: 'c'.repeat(40),
            step: '2',
            weight: '25',
          },
          reportingController: 'cairn-agent',
          timestamp: '2026-12-03T09:00:00.000Z',
        },
      },
    ]);
  });

  test('5xx answers are retried with backoff, and events keep their order', async () => {
    await using hook = await receiver([503, 502]);
    const errors: string[] = [];
    const notifier = new Notifier(hook.url, { backoffMs: 10, onError: (m) => errors.push(m) });
    notifier.send(
      toNotification('prod', { ...aborted, reason: 'RolloutStarted', severity: 'info' }, AT),
    );
    notifier.send(toNotification('prod', aborted, AT));
    await notifier.drain();
    expect(hook.got.map((g) => g.body.reason)).toEqual([
      'RolloutStarted',
      'RolloutStarted',
      'RolloutStarted',
      'RolloutAborted',
    ]);
    expect(errors).toEqual([]);
  });

  test('a 4xx is not retried and is reported without the webhook path', async () => {
    await using hook = await receiver([404]);
    const errors: string[] = [];
    const notifier = new Notifier(hook.url, { backoffMs: 10, onError: (m) => errors.push(m) });
    notifier.send(toNotification('prod', aborted, AT));
    await notifier.drain();
    expect(hook.got).toHaveLength(1);
    expect(errors).toEqual([
      `notification webhook ${new URL(hook.url).origin}: HTTP 404 (gave up after 1 attempt)`,
    ]);
    expect(errors.join()).not.toContain('t0ken');
  });

  test('a receiver that hangs never blocks the caller and is given up on after the retries', async () => {
    await using hook = await receiver([], true);
    const errors: string[] = [];
    const notifier = new Notifier(hook.url, {
      timeoutMs: 150,
      retries: 1,
      backoffMs: 10,
      onError: (m) => errors.push(m),
    });
    const started = performance.now();
    notifier.send(toNotification('prod', aborted, AT));
    expect(performance.now() - started).toBeLessThan(50);
    await notifier.drain();
    expect(hook.got).toHaveLength(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/gave up after 2 attempts\)$/);
  });

  test('a dead receiver is reported, and past maxQueued the oldest events are dropped', async () => {
    const dead = await receiver();
    const url = dead.url;
    await dead[Symbol.asyncDispose]();
    const errors: string[] = [];
    const notifier = new Notifier(url, {
      retries: 0,
      maxQueued: 2,
      onError: (m, e) => errors.push(`${e.metadata.step} ${m}`),
    });
    for (const step of [0, 1, 2, 3])
      notifier.send(toNotification('prod', { ...aborted, step }, AT));
    await notifier.drain();
    // 0 was already being delivered; 1 was dropped to make room; 2 and 3 failed.
    expect(errors.filter((e) => e.includes('queue full'))).toEqual([
      `1 notification webhook ${new URL(url).origin}: queue full, dropped`,
    ]);
    expect(errors.filter((e) => e.includes('ECONNREFUSED')).map((e) => e.split(' ')[0])).toEqual([
      '0',
      '2',
      '3',
    ]);
  });
});
