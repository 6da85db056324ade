// The tar reader accepts what real writers produce (USTAR prefix, PAX, GNU long names, V7
// '\0' files, no end blocks) and refuses malformed input.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ByteReader, readTar } from './tar-reader.js';
import { BLOCK, TRAILER, encodeHeader, padding, paxRecord } from './tar-header.js';

function raw(name: string, flag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b[156] = flag.charCodeAt(0);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (b[i] ?? 0);
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

const data = (s: string) => {
  const d = Buffer.from(s);
  return Buffer.concat([d, Buffer.alloc(padding(d.length))]);
};

async function entries(bytes: Buffer): Promise<[string, string, string][]> {
  const out: [string, string, string][] = [];
  // deliver in odd-sized pieces to exercise the reader's buffering
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 777) pieces.push(bytes.subarray(i, i + 777));
  const reader = new ByteReader(Readable.from(pieces));
  for await (const e of readTar(reader, 'test')) {
    let text = '';
    for await (const c of e.data()) text += c.toString();
    out.push([e.name, e.type, text]);
  }
  return out;
}

describe('readTar', () => {
  it('reads USTAR prefixes, PAX paths, GNU long names and V7 files', async () => {
    const long = `${'d'.repeat(120)}/file.txt`;
    const split = `${'p'.repeat(60)}/${'q'.repeat(60)}/f.txt`;
    const pax = Buffer.from(paxRecord('path', 'ünï/x.txt'));
    const gnu = Buffer.from(`${long}\0`);
    const bytes = Buffer.concat([
      encodeHeader({ name: split, type: 'file', mode: 0o644, size: 1 }),
      data('a'),
      raw('x', 'g', 0),
      raw('PaxHeaders.0/x', 'x', pax.length),
      data(pax.toString()),
      raw('ignored-by-pax', '0', 1),
      data('b'),
      raw('././@LongLink', 'L', gnu.length),
      data(gnu.toString()),
      raw(long.slice(0, 100), '0', 1),
      data('c'),
      raw('v7file', '\0', 1),
      data('d'),
      encodeHeader({ name: 'dir', type: 'dir', mode: 0o755, size: 0 }),
      TRAILER,
    ]);
    expect(await entries(bytes)).toEqual([
      [split, 'file', 'a'],
      ['ünï/x.txt', 'file', 'b'],
      [long, 'file', 'c'],
      ['v7file', 'file', 'd'],
      ['dir', 'dir', ''],
    ]);
  });

  it('tolerates a missing end-of-archive marker', async () => {
    const bytes = Buffer.concat([
      encodeHeader({ name: 'a', type: 'file', mode: 0o644, size: 1 }),
      data('z'),
    ]);
    expect(await entries(bytes)).toEqual([['a', 'file', 'z']]);
  });

  it('refuses a bad checksum and a malformed PAX record', async () => {
    const bad = raw('a', '0', 0);
    bad[0] = 0x62;
    await expect(entries(Buffer.concat([bad, TRAILER]))).rejects.toThrow(/invalid tar header/);
    const rec = Buffer.from('99 path=x\n');
    await expect(
      entries(
        Buffer.concat([raw('p', 'x', rec.length), data(rec.toString()), raw('a', '0', 0), TRAILER]),
      ),
    ).rejects.toThrow(/malformed PAX header/);
  });
});
