/**
 * Per-datatype facts the codecs share: element width, the typed array that holds the elements,
 * how raw little-endian bytes become elements (Triton's binary-data layout), and IEEE half
 * conversion for FP16, which JSON carries as ordinary numbers.
 */
import { InferError, type Datatype, type TensorData } from './types.js';

type NumericDatatype = Exclude<Datatype, 'BYTES'>;

interface TypedArrayClass {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): Exclude<TensorData, readonly Uint8Array[]>;
  new (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ): Exclude<TensorData, readonly Uint8Array[]>;
}

/** A numeric datatype's typed array holding `values` (64-bit integers through BigInt). */
export function typedArrayOf(
  datatype: NumericDatatype,
  values: readonly number[],
): Exclude<TensorData, readonly Uint8Array[]> {
  const out = new TYPED_ARRAY[datatype](values.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    values.forEach((v, i) => (out[i] = BigInt(v)));
  } else {
    values.forEach((v, i) => (out[i] = v));
  }
  return out;
}

/** The typed array holding each numeric datatype's elements (see `TensorData`). */
export const TYPED_ARRAY: Readonly<Record<NumericDatatype, TypedArrayClass>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (value === 'BYTES' || value in TYPED_ARRAY);
}

/**
 * Elements of `datatype` read from `bytes` (little-endian, as the binary-data extension sends
 * them): a view over the same memory when the offset is aligned, a copy otherwise.
 */
export function fromRawBytes(datatype: Datatype, bytes: Uint8Array, where: string): TensorData {
  if (datatype === 'BYTES') return splitLengthPrefixed(bytes, where);
  const Typed = TYPED_ARRAY[datatype];
  const width = Typed.BYTES_PER_ELEMENT;
  if (bytes.byteLength % width !== 0) {
    throw new InferError(
      'bad-request',
      `${where}: ${bytes.byteLength} bytes of binary data is not a whole number of ${datatype} elements (${width} bytes each)`,
    );
  }
  const count = bytes.byteLength / width;
  if (bytes.byteOffset % width === 0) return new Typed(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(bytes); // a copy (Buffer#slice would be a view)
  return new Typed(copy.buffer, 0, count);
}

/** BYTES elements in the binary layout: each a 4-byte little-endian length, then the bytes. */
function splitLengthPrefixed(bytes: Uint8Array, where: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) {
      throw new InferError(
        'bad-request',
        `${where}: BYTES element ${out.length} has a cut length prefix`,
      );
    }
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) {
      throw new InferError(
        'bad-request',
        `${where}: BYTES element ${out.length} claims ${length} bytes but only ${bytes.byteLength - at} remain`,
      );
    }
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
  return out;
}

/** Raw little-endian bytes of a tensor's elements (BYTES length-prefixed), for binary outputs. */
export function toRawBytes(data: TensorData): Uint8Array {
  if (!ArrayBuffer.isView(data)) {
    const elements = data as readonly Uint8Array[];
    const size = elements.reduce((n, e) => n + 4 + e.byteLength, 0);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const e of elements) {
      view.setUint32(at, e.byteLength, true);
      out.set(e, at + 4);
      at += 4 + e.byteLength;
    }
    return out;
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE 754 half bits of a number, rounding to nearest even. */
export function toHalfBits(value: number): number {
  scratch.setFloat32(0, value);
  const f = scratch.getUint32(0);
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  let mantissa = f & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (rest > midpoint || (rest === midpoint && (half & 1) === 1) ? half + 1 : half);
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half);
}

/** The number IEEE 754 half bits stand for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
