// The few pieces of the protocol-buffers wire format that export.mjs needs, so the example runs
// with Node alone: each function returns the bytes of one field (key, then value).
import { Buffer } from 'node:buffer';

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Base-128 varint of a non-negative integer (exact up to 2^53). */
function varint(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`internal error: varint ${value}`);
  const bytes = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

const key = (field, wireType) => varint(field * 8 + wireType);

/** An int32/int64/enum field. */
export const int = (field, value) => Buffer.concat([key(field, VARINT), varint(value)]);

/** A bytes field, or an embedded message given as its encoded fields. */
export const bytes = (field, value) =>
  Buffer.concat([key(field, LENGTH_DELIMITED), varint(value.length), value]);

export const string = (field, value) => bytes(field, Buffer.from(value, 'utf8'));

export const message = (field, fields) => bytes(field, Buffer.concat(fields));

/** A packed repeated float field (little-endian IEEE single precision). */
export function packedFloats(field, values) {
  const data = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => data.writeFloatLE(v, i * 4));
  return bytes(field, data);
}
