import { describe, expect, it } from 'vitest';
import { modelSignature, requestBody, responseOutputs } from './process-json.js';

describe('process runtime JSON', () => {
  it('writes a request with exact 64-bit integers, booleans and UTF-8 BYTES', () => {
    const body = requestBody({
      id: 'r',
      parameters: { p: 1 },
      outputs: [{ name: 'Y' }],
      inputs: [
        {
          name: 'I',
          datatype: 'INT64',
          shape: [2],
          data: new BigInt64Array([9007199254740993n, -1n]),
        },
        { name: 'B', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
        { name: 'S', datatype: 'BYTES', shape: [1], data: [new TextEncoder().encode('héllo')] },
      ],
    });
    expect(body).toBe(
      '{"id":"r","parameters":{"p":1},"outputs":[{"name":"Y"}],"inputs":[' +
        '{"name":"I","datatype":"INT64","shape":[2],"data":[9007199254740993,-1]},' +
        '{"name":"B","datatype":"BOOL","shape":[2],"data":[true,false]},' +
        '{"name":"S","datatype":"BYTES","shape":[1],"data":["héllo"]}]}',
    );
    expect(JSON.parse(body)).toMatchObject({ id: 'r' });
  });

  it('refuses what JSON cannot carry', () => {
    const one = (
      datatype: 'FP16' | 'FP32' | 'BYTES',
      data: Uint16Array | Float32Array | Uint8Array[],
    ) => requestBody({ id: 'r', inputs: [{ name: 'X', datatype, shape: [1], data }] });
    expect(() => one('FP16', new Uint16Array(1))).toThrow(/FP16 cannot be sent/);
    expect(() => one('FP32', new Float32Array([NaN]))).toThrow(/NaN or infinite/);
    expect(() => one('BYTES', [new Uint8Array([0xff])])).toThrow(/BYTES element 0 is not UTF-8/);
  });

  it('reads nested response data into typed tensors and rejects a mismatched shape', () => {
    const [y, s] = responseOutputs({
      outputs: [
        {
          name: 'Y',
          datatype: 'INT32',
          shape: [2, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
        { name: 'S', datatype: 'BYTES', shape: [1], data: ['ok'] },
      ],
    });
    expect(y?.data).toEqual(new Int32Array([1, 2, 3, 4]));
    expect(s?.data).toEqual([new TextEncoder().encode('ok')]);
    expect(() =>
      responseOutputs({ outputs: [{ name: 'Y', datatype: 'FP32', shape: [3], data: [1] }] }),
    ).toThrow(/output Y with 1 elements for shape \[3\]/);
    expect(() => responseOutputs({})).toThrow(/without an outputs list/);
  });

  it('reads model metadata', () => {
    expect(
      modelSignature({ inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 2] }], outputs: [] }),
    ).toEqual({
      platform: 'process',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 2] }],
      outputs: [],
    });
    expect(() =>
      modelSignature({ inputs: [{ name: 'X', datatype: 'F32', shape: [] }], outputs: [] }),
    ).toThrow(/bad inputs entry/);
  });
});
