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
function flatten(data: readonly unknown[], limit: number, where: string): unknown[] {
  const out: unknown[] = [];
  const walk = (value: readonly unknown[], depth: number): void => {
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

/** Returned by `convert` when it meets a nested array: the data needs flattening first. */
const NESTED = Symbol('nested');

/**
 * Decodes an input's JSON `data` into the typed array of `datatype`, checking that it holds
 * exactly `count` elements (the product of the shape). Flat data of the right length, the
 * common case, is converted in one pass; nested rows are flattened first.
 */
export function dataFromJson(
  datatype: Datatype,
  data: unknown,
  count: number,
  where: string,
): TensorData {
  if (!Array.isArray(data))
    throw new InferError('bad-request', `${where}: "data" must be an array`);
  if (data.length === count) {
    const out = convert(datatype, data, count, where);
    if (out !== NESTED) return out;
  }
  const values = flatten(data, count, where);
  if (values.length !== count) {
    throw new InferError(
      'bad-request',
      `${where}: "data" has ${values.length > count ? `more than ${count}` : values.length} elements but the shape needs ${count}`,
    );
  }
  return convert(datatype, values, count, where) as TensorData;
}

/**
 * `count` JSON values as `datatype`'s typed array (one plain loop per type, no per-element
 * closures), or NESTED at the first array among them.
 */
function convert(
  datatype: Datatype,
  values: readonly unknown[],
  count: number,
  where: string,
): TensorData | typeof NESTED {
  const bad = (i: number, what: string): InferError | typeof NESTED =>
    Array.isArray(values[i])
      ? NESTED
      : new InferError(
          'bad-request',
          `${where}: element ${i} is ${values[i] === undefined ? 'undefined' : JSON.stringify(values[i])}, expected ${what} for ${datatype}`,
        );
  const fail = (i: number, what: string): typeof NESTED => {
    const error = bad(i, what);
    if (error === NESTED) return NESTED;
    throw error;
  };
  if (datatype === 'FP32' || datatype === 'FP64') {
    const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'number') return fail(i, 'a number');
      out[i] = v;
    }
    return out;
  }
  if (datatype === 'BYTES') {
    const encoder = new TextEncoder();
    const out: Uint8Array[] = new Array<Uint8Array>(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'string') return fail(i, 'a string');
      out[i] = encoder.encode(v);
    }
    return out;
  }
  if (datatype === 'BOOL') {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'boolean') return fail(i, 'true or false');
      out[i] = v ? 1 : 0;
    }
    return out;
  }
  if (datatype === 'FP16') {
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'number') return fail(i, 'a number');
      out[i] = toHalfBits(v);
    }
    return out;
  }
  const [min, max] = INTEGER_RANGE[datatype] as readonly [number, number];
  const what = `an integer in [${min}, ${max}]`;
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return fail(i, what);
      out[i] = BigInt(v);
    }
    return out;
  }
  const out = new TYPED_ARRAY[datatype](count) as Exclude<
    TensorData,
    readonly Uint8Array[] | BigInt64Array | BigUint64Array
  >;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return fail(i, what);
    out[i] = v;
  }
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
    case 'FP64': {
      // Built as text: a number's shortest round-trip form is its JSON; non-finite ones are null.
      const floats = data as Float32Array | Float64Array;
      let text = '[';
      for (let i = 0; i < floats.length; i++) {
        const v = floats[i] as number;
        if (i > 0) text += ',';
        text += Number.isFinite(v) ? String(v) : 'null';
      }
      return `${text}]`;
    }
    default:
      // Integers, 64-bit ones included: their decimal text is exact JSON.
      return `[${Array.prototype.join.call(data, ',')}]`;
  }
}

/** Plain JSON values of a tensor's elements, for KServe v1 `predictions`. */
export function dataToValues(datatype: Datatype, data: TensorData): unknown[] {
  return JSON.parse(dataToJson(datatype, data)) as unknown[];
}
