import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CairnEvent } from '../core/events.js';
import { createEventOutput, lockWaitLine } from './events.js';

function jsonOutput() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const out = createEventOutput({
    json: true,
    quiet: false,
    jsonLines: stream,
    prefixStages: false,
  });
  return {
    out,
    lines: () =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as CairnEvent),
  };
}

describe('the event output', () => {
  it('--json writes every domain event as one JSON line and leaves progress redraws out', () => {
    const { out, lines } = jsonOutput();
    out.sink({ type: 'progress', phase: 'hash', done: 1, total: 2 });
    out.sink({
      type: 'transfer',
      id: 'sha256:aa',
      mediaType: 'application/vnd.kitops.modelkit.model.v1.tar',
      bytes: 5,
      total: 10,
      done: false,
    });
    out.sink({ type: 'layer-uploaded', digest: 'sha256:aa', size: 10, how: 'uploaded' });
    out.sink({ type: 'stage-skip', stage: 'train', why: 'unchanged' });
    out.sink({ type: 'phase-done', phase: 'hash', done: 2, ms: 3 });
    out.sink({ type: 'warning', message: 'careful' });
    out.done();
    expect(lines()).toEqual([
      { type: 'layer-uploaded', digest: 'sha256:aa', size: 10, how: 'uploaded' },
      { type: 'stage-skip', stage: 'train', why: 'unchanged' },
      { type: 'warning', message: 'careful' },
    ]);
  });

  it('a lock wait reads as before: the lock file for a command, the quoted output for a stage', () => {
    expect(
      lockWaitLine({ type: 'lock-wait', lock: '/r/.cairn/lock', pid: 7, command: 'cairn add d' }),
    ).toBe('Waiting for lock /r/.cairn/lock, held by pid 7 (cairn add d)…');
    expect(
      lockWaitLine({
        type: 'lock-wait',
        lock: 'left.txt',
        pid: 8,
        command: 'cairn repro a',
        stage: 'b',
      }),
    ).toBe("Waiting for lock 'left.txt', held by pid 8 (cairn repro a)…");
  });
});
