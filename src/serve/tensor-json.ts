/**
 * OIP JSON tensor data ⇄ typed arrays: `data` flat or nested row-major, checked element by
 * element against the datatype (integer range, booleans, strings for BYTES), and outputs
 * written back as JSON text without an intermediate array of boxed numbers.
 */
import { TYPED_ARRAY, fromHalfBits, toHalfBits } from './dtype.js';
import { InferError, type Datatype, type TensorData } from './types.js';

/** Inclusive bounds of each integer datatype (64-bit ones as JSON numbers can carry them). */
const INTEGER_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Flattens nested row-major `data`, refusing to go past `limit` elements or deep nesting. */
function flatten(data: unknown, limit: number, where: string): unknown[] {
  if (!Array.isArray(data))
    throw new InferError('bad-request', `${where}: "data" must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown[], depth: number): void => {
    if (depth > 64) throw new InferError('bad-request', `${where}: "data" is nested too deeply`);
    for (const v of value) {
      if (out.length > limit) return;
      if (Array.isArray(v)) walk(v, depth + 1);
      else out.push(v);
    }
  };
  walk(data, 0);
  return out;
}

/**
 * Decodes an input's JSON `data` into the typed array of `datatype`, checking that it holds
 * exactly `count` elements (the product of the shape).
 */
export function dataFromJson(
  datatype: Datatype,
  data: unknown,
  count: number,
  where: string,
): TensorData {
  const values = flatten(data, count, where);
  if (values.length !== count) {
    throw new InferError(
      'bad-request',
      `${where}: "data" has ${values.length > count ? `more than ${count}` : values.length} elements but the shape needs ${count}`,
    );
  }
  const bad = (i: number, what: string): InferError =>
    new InferError(
      'bad-request',
      `${where}: element ${i} is ${values[i] === undefined ? 'undefined' : JSON.stringify(values[i])}, expected ${what} for ${datatype}`,
    );
  if (datatype === 'BYTES') {
    const encoder = new TextEncoder();
    return values.map((v, i) => {
      if (typeof v !== 'string') throw bad(i, 'a string');
      return encoder.encode(v);
    });
  }
  if (datatype === 'BOOL') {
    const out = new Uint8Array(count);
    values.forEach((v, i) => {
      if (typeof v !== 'boolean') throw bad(i, 'true or false');
      out[i] = v ? 1 : 0;
    });
    return out;
  }
  const range = INTEGER_RANGE[datatype];
  if (range !== undefined) {
    const [min, max] = range;
    const check = (v: unknown, i: number): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw bad(i, `an integer in [${min}, ${max}]`);
      return v;
    };
    if (datatype === 'INT64' || datatype === 'UINT64') {
      const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      values.forEach((v, i) => (out[i] = BigInt(check(v, i))));
      return out;
    }
    const out = new TYPED_ARRAY[datatype](count);
    values.forEach((v, i) => (out[i] = check(v, i)));
    return out;
  }
  const number = (v: unknown, i: number): number => {
    if (typeof v !== 'number') throw bad(i, 'a number');
    return v;
  };
  if (datatype === 'FP16') {
    const out = new Uint16Array(count);
    values.forEach((v, i) => (out[i] = toHalfBits(number(v, i))));
    return out;
  }
  const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
  values.forEach((v, i) => (out[i] = number(v, i)));
  return out;
}

/** JSON text of a tensor's elements as a flat array (non-finite floats become `null`). */
export function dataToJson(datatype: Datatype, data: TensorData): string {
  if (!ArrayBuffer.isView(data)) {
    const decoder = new TextDecoder();
    return JSON.stringify((data as readonly Uint8Array[]).map((e) => decoder.decode(e)));
  }
  switch (datatype) {
    case 'BOOL':
      return JSON.stringify(Array.from(data as Uint8Array, (v) => v !== 0));
    case 'FP16':
      return JSON.stringify(Array.from(data as Uint16Array, fromHalfBits));
    case 'FP32':
    case 'FP64':
      return JSON.stringify(Array.from(data as Float32Array | Float64Array));
    default:
      // Integers, 64-bit ones included: their decimal text is exact JSON.
      return `[${Array.prototype.join.call(data, ',')}]`;
  }
}

/** Plain JSON values of a tensor's elements, for KServe v1 `predictions`. */
export function dataToValues(datatype: Datatype, data: TensorData): unknown[] {
  return JSON.parse(dataToJson(datatype, data)) as unknown[];
}
