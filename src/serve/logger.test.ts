import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import { createLogger, formatRecord } from './logger.js';

function capture(pretty: boolean) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const logger = createLogger({ stream, pretty, base: { component: 'serve' } });
  return { logger, text: () => text };
}

test('in a pipe each record is one JSON line with an ISO time and the fixed fields', () => {
  const { logger, text } = capture(false);
  logger.info({ port: 8080, models: 2 }, 'listening');
  const record = JSON.parse(text().trim()) as Record<string, unknown>;
  expect(record).toMatchObject({ level: 30, msg: 'listening', port: 8080, component: 'serve' });
  expect(String(record.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
});

test('credentials, cookies and tensor payloads are redacted wherever they are logged', () => {
  const { logger, text } = capture(false);
  logger.warn(
    {
      headers: { authorization: 'Bearer s3cr3t', cookie: 'uid=42', 'x-request-id': 'r1' },
      token: 'tok-123',
      inputs: [{ name: 'x', data: [1, 2, 3] }],
    },
    'rejected',
  );
  const out = text();
  for (const secret of ['s3cr3t', 'uid=42', 'tok-123', '[1,2,3]'])
    expect(out).not.toContain(secret);
  expect(out).toContain('r1');
});

test('on a terminal a record reads as time, level, message and key=value fields', () => {
  const { logger, text } = capture(true);
  logger.error({ model: 'churn', status: 503 }, 'not ready');
  expect(text()).toMatch(
    /^\d\d:\d\d:\d\d ERROR not ready component=serve model=churn status=503\n$/,
  );
  expect(formatRecord('not json')).toBe('not json');
});
