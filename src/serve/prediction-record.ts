/**
 * Tensors as the prediction log writes them: plain JSON a drift monitor (or pandas) can read
 * without knowing Cairn's typed arrays, and that `tensorFromJson` turns back into a Tensor.
 */
import { typedArrayOf } from './dtype.js';
import type { Datatype, Tensor } from './types.js';

/**
 * One tensor in a prediction record. `data` is flat and row-major: numbers (64-bit integers
 * beyond ±2^53 as decimal strings, NaN and infinities as the strings "NaN", "Infinity",
 * "-Infinity"), booleans for BOOL, the raw IEEE half bits for FP16, and for BYTES UTF-8
 * strings — or base64 strings with `encoding: "base64"` when any element is not UTF-8.
 */
export interface JsonTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: readonly (number | string | boolean)[];
  readonly encoding?: 'base64';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function jsonTensor(tensor: Tensor): JsonTensor {
  const { name, datatype, shape } = tensor;
  const data = tensor.data;
  if (Array.isArray(data)) {
    const elements = data as readonly Uint8Array[];
    try {
      return { name, datatype, shape, data: elements.map((b) => utf8.decode(b)) };
    } catch {
      return {
        name,
        datatype,
        shape,
        data: elements.map((b) => Buffer.from(b).toString('base64')),
        encoding: 'base64',
      };
    }
  }
  const values = Array.from(data as ArrayLike<number | bigint>, (v): number | string | boolean => {
    if (typeof v === 'bigint')
      return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
    if (datatype === 'BOOL') return v !== 0;
    return Number.isFinite(v) ? v : String(v);
  });
  return { name, datatype, shape, data: values };
}

/** The Tensor a logged tensor was written from. */
export function tensorFromJson(json: JsonTensor): Tensor {
  const { name, datatype, shape } = json;
  if (datatype === 'BYTES') {
    const data = json.data.map((s) =>
      json.encoding === 'base64'
        ? new Uint8Array(Buffer.from(String(s), 'base64'))
        : new TextEncoder().encode(String(s)),
    );
    return { name, datatype, shape, data };
  }
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const big = json.data.map((v) => BigInt(v));
    const data = datatype === 'INT64' ? BigInt64Array.from(big) : BigUint64Array.from(big);
    return { name, datatype, shape, data };
  }
  return { name, datatype, shape, data: typedArrayOf(datatype, json.data.map(Number)) };
}
