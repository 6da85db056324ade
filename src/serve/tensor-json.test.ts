import { describe, expect, it } from 'vitest';
import { dataFromJson, dataToJson } from './tensor-json.js';

const where = 'input "x"';

describe('OIP JSON tensor data', () => {
  it('converts flat data in one pass and nested rows through flattening, alike', () => {
    const flat = dataFromJson('FP32', [1, 2.5, -3, 4], 4, where);
    expect(flat).toBeInstanceOf(Float32Array);
    expect([...flat]).toEqual([1, 2.5, -3, 4]);
    expect([
      ...dataFromJson(
        'FP32',
        [
          [1, 2.5],
          [-3, 4],
        ],
        4,
        where,
      ),
    ]).toEqual([1, 2.5, -3, 4]);
    // As many top-level entries as elements, yet nested: the fast path hands over to flattening.
    expect([...dataFromJson('INT32', [[7], [8]], 2, where)]).toEqual([7, 8]);
    expect([
      ...dataFromJson(
        'INT64',
        [
          [1, 2],
          [3, 4],
        ],
        4,
        where,
      ),
    ]).toEqual([1n, 2n, 3n, 4n]);
    expect([...dataFromJson('BOOL', [true, [false]], 2, where)]).toEqual([1, 0]);
  });

  it('names the element that does not fit, at its flat index, nested or not', () => {
    expect(() => dataFromJson('FP32', [1, 'two', 3], 3, where)).toThrow(
      'input "x": element 1 is "two", expected a number for FP32',
    );
    expect(() => dataFromJson('FP32', [[1], ['two'], [3]], 3, where)).toThrow(
      'input "x": element 1 is "two", expected a number for FP32',
    );
    expect(() => dataFromJson('UINT8', [1, 256], 2, where)).toThrow(
      'input "x": element 1 is 256, expected an integer in [0, 255] for UINT8',
    );
    expect(() => dataFromJson('FP32', [1, 2, 3], 4, where)).toThrow(
      'input "x": "data" has 3 elements but the shape needs 4',
    );
    expect(() =>
      dataFromJson(
        'FP32',
        [
          [1, 2],
          [3, 4, 5],
        ],
        4,
        where,
      ),
    ).toThrow('input "x": "data" has more than 4 elements but the shape needs 4');
    expect(() => dataFromJson('FP32', { 0: 1 }, 1, where)).toThrow(
      'input "x": "data" must be an array',
    );
  });

  it('writes floats as their shortest JSON text, and non-finite ones as null', () => {
    const data = new Float32Array([0.1, -0, 1e-7, Infinity, NaN, 3]);
    expect(dataToJson('FP32', data)).toBe(
      JSON.stringify(Array.from(data, (v) => (Number.isFinite(v) ? v : null))),
    );
    expect(dataToJson('FP64', new Float64Array([]))).toBe('[]');
  });
});
