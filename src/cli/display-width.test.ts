import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clipToWidth, displayWidth } from './display-width.js';
import { createRenderer } from './progress.js';

describe('display width', () => {
  it('counts wide characters twice and combining marks not at all', () => {
    expect(displayWidth('model.bin')).toBe(9);
    expect(displayWidth('模型.bin')).toBe(8);
    expect(displayWidth('cafe\u0301')).toBe(4);
    expect(displayWidth('🚀 push')).toBe(7);
  });

  it('clips a line to the columns it may take, marking the cut', () => {
    expect(clipToWidth('short', 10)).toBe('short');
    expect(clipToWidth('exactly10!', 10)).toBe('exactly10!');
    expect(clipToWidth('a line that is too long', 10)).toBe('a line th…');
    // a wide character that would straddle the edge is left out, not split
    expect(clipToWidth('ab模型cd', 5)).toBe('ab模…');
    expect(clipToWidth('ab模型cd', 4)).toBe('ab…');
    expect(displayWidth(clipToWidth('模型'.repeat(50), 79))).toBeLessThanOrEqual(79);
  });
});

describe('progress on an 80-column terminal', () => {
  it('draws no line that would wrap, so a redraw erases all of it', () => {
    let written = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.toString();
          callback();
        },
      }),
      { columns: 80, isTTY: true },
    );
    const { sink, done } = createRenderer({
      stream: terminal as unknown as NodeJS.WriteStream,
      progress: true,
      quiet: false,
    });
    sink({
      type: 'transfer',
      id: `sha256:${'ab'.repeat(32)}`,
      mediaType: `application/vnd.kitops.modelkit.dataset.v1.tar+${'模型'.repeat(10)}`,
      bytes: 10,
      total: 1 << 30,
      done: false,
    });
    sink({
      type: 'progress',
      phase: `push registry.example.com/${'deeply/nested/'.repeat(5)}model`,
      done: 7,
      total: 7,
      bytes: 5 << 20,
      totalBytes: 1 << 30,
    });
    done();
    // eslint-disable-next-line no-control-regex
    const lines = written.split(/\r|\n|\x1b\[[0-9]*[A-Z]/).filter((l) => l !== '');
    expect(lines.some((l) => l.includes('push registry.example.com/'))).toBe(true);
    expect(lines.some((l) => l.includes('dataset   abababababab'))).toBe(true);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(79);
    expect(lines.some((l) => l.endsWith('…'))).toBe(true);
  });
});
