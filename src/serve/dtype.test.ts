import { describe, expect, it } from 'vitest';
import { fromHalfBits, fromRawBytes, toHalfBits, toRawBytes } from './dtype.js';
import { InferError } from './types.js';

describe('IEEE half conversion', () => {
  it('converts exact values, extremes and specials both ways', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // largest half
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [value, bits] of cases) {
      expect(toHalfBits(value)).toBe(bits);
      expect(Object.is(fromHalfBits(bits), value)).toBe(true);
    }
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('rounds to nearest, ties to even, and overflows to infinity', () => {
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie: stays even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: rounds up to even
    expect(toHalfBits(0.1)).toBe(0x2e66);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(2 ** -26)).toBe(0x0000);
  });
});

describe('raw tensor bytes', () => {
  it('views aligned bytes in place and copies misaligned ones', () => {
    const backing = new Uint8Array(17);
    new DataView(backing.buffer).setFloat32(4, 1.5, true);
    const aligned = fromRawBytes('FP32', backing.subarray(4, 8), 'x') as Float32Array;
    expect(aligned.buffer).toBe(backing.buffer);
    expect(aligned[0]).toBe(1.5);
    backing.copyWithin(1, 4, 8);
    const copied = fromRawBytes('FP32', backing.subarray(1, 5), 'x') as Float32Array;
    expect(copied.buffer).not.toBe(backing.buffer);
    expect(copied[0]).toBe(1.5);
  });

  it('splits and joins length-prefixed BYTES, refusing lengths past the end', () => {
    const elements = [new TextEncoder().encode('ab'), new Uint8Array(0)];
    const raw = toRawBytes(elements);
    expect([...raw]).toEqual([2, 0, 0, 0, 97, 98, 0, 0, 0, 0]);
    expect(fromRawBytes('BYTES', raw, 'x')).toEqual(elements);
    expect(() => fromRawBytes('BYTES', raw.subarray(0, 5), 'input "x"')).toThrow(InferError);
  });
});
