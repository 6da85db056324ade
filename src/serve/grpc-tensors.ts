/**
 * Tensors and parameters between the OIP gRPC wire form (as @grpc/proto-loader presents it:
 * original field names, 64-bit integers as decimal strings, bytes as Buffers) and Cairn's
 * decoded Tensor: typed `contents` or little-endian `raw_*_contents`, both directions.
 */
import { TYPED_ARRAY } from './dtype.js';
import type { Datatype, Parameters, Tensor, TensorData } from './types.js';
import { DATATYPES, InferError } from './types.js';

export interface WireContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface WireParameter {
  parameter_choice?: string;
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

export interface WireTensor {
  name: string;
  datatype: string;
  shape: string[];
  parameters?: Record<string, WireParameter>;
  contents?: WireContents | null;
}

type Numeric = Exclude<TensorData, readonly Uint8Array[]>;

/** The typed contents field each datatype travels in; FP16 has none. */
const FIELD: Record<Datatype, keyof WireContents | undefined> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const bad = (message: string) => new InferError('bad-request', message);

/** Decodes one input tensor from its typed contents, or from `raw` when given. */
export function decodeTensor(wire: WireTensor, raw: Buffer | undefined): Tensor {
  const where = `input ${wire.name}`;
  if (!(DATATYPES as readonly string[]).includes(wire.datatype)) {
    throw bad(`${where}: unknown datatype ${wire.datatype}; use one of ${DATATYPES.join(', ')}`);
  }
  const datatype = wire.datatype as Datatype;
  const shape = wire.shape.map(Number);
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
    throw bad(`${where}: shape [${wire.shape.join(', ')}] must be whole numbers ≥ 0`);
  }
  const count = shape.reduce((product, dim) => product * dim, 1);
  const data =
    raw === undefined
      ? fromContents(datatype, wire.contents, where)
      : fromRaw(datatype, raw, count, where);
  if (data.length !== count) {
    throw bad(
      `${where}: shape [${shape.join(', ')}] holds ${count} elements but ${data.length} were sent`,
    );
  }
  const parameters = decodeParameters(wire.parameters);
  return parameters === undefined
    ? { name: wire.name, datatype, shape, data }
    : { name: wire.name, datatype, shape, data, parameters };
}

function fromContents(
  datatype: Datatype,
  contents: WireContents | null | undefined,
  where: string,
): TensorData {
  const field = FIELD[datatype];
  if (field === undefined)
    throw bad(`${where}: ${datatype} has no typed contents; send it in raw_input_contents`);
  const values = contents?.[field] ?? [];
  if (datatype === 'BYTES') return (values as Buffer[]).map((b) => new Uint8Array(b));
  const Ctor = TYPED_ARRAY[datatype];
  const out = new Ctor(values.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    (values as string[]).forEach((v, i) => (out[i] = BigInt(v)));
  } else {
    (values as (number | boolean)[]).forEach((v, i) => {
      const n = Number(v);
      out[i] = n;
      if (datatype !== 'FP32' && datatype !== 'FP64' && out[i] !== n) {
        throw bad(`${where}: element ${i} (${n}) does not fit ${datatype}`);
      }
    });
  }
  return out;
}

function fromRaw(datatype: Datatype, raw: Buffer, count: number, where: string): TensorData {
  if (datatype === 'BYTES') {
    const elements: Uint8Array[] = [];
    let at = 0;
    while (at < raw.length) {
      if (at + 4 > raw.length) throw bad(`${where}: raw BYTES contents end inside a length prefix`);
      const length = raw.readUInt32LE(at);
      if (at + 4 + length > raw.length)
        throw bad(`${where}: raw BYTES element ${elements.length} runs past the end`);
      elements.push(new Uint8Array(raw.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    return elements;
  }
  const Ctor = TYPED_ARRAY[datatype];
  const expected = count * Ctor.BYTES_PER_ELEMENT;
  if (raw.length !== expected) {
    throw bad(
      `${where}: raw contents are ${raw.length} bytes; ${count} ${datatype} elements need ${expected}`,
    );
  }
  // Copy into an aligned buffer; elements are little-endian like every platform Node runs on.
  const out = new Ctor(count);
  new Uint8Array(out.buffer).set(raw);
  if (datatype === 'BOOL') for (let i = 0; i < out.length; i++) out[i] = out[i] === 0 ? 0 : 1;
  return out;
}

/** One output tensor in typed contents (FP16 has none: it falls back to raw, see grpc.ts). */
export function toContents(tensor: Tensor): WireContents {
  const field = FIELD[tensor.datatype];
  if (field === undefined)
    throw new Error(`Internal error: ${tensor.datatype} has no typed contents`);
  const data = tensor.data;
  if (Array.isArray(data))
    return { bytes_contents: (data as readonly Uint8Array[]).map((b) => Buffer.from(b)) };
  const numeric = data as Numeric;
  if (numeric instanceof BigInt64Array || numeric instanceof BigUint64Array) {
    return { [field]: Array.from(numeric, (v) => v.toString()) };
  }
  const values = Array.from(numeric as ArrayLike<number>);
  return { [field]: tensor.datatype === 'BOOL' ? values.map((v) => v !== 0) : values };
}

/** One output tensor as raw little-endian bytes. */
export function toRaw(tensor: Tensor): Buffer {
  const data = tensor.data;
  if (!Array.isArray(data)) {
    const numeric = data as Numeric;
    return Buffer.from(numeric.buffer, numeric.byteOffset, numeric.byteLength);
  }
  const elements = data as readonly Uint8Array[];
  const out = Buffer.alloc(elements.reduce((sum, b) => sum + 4 + b.length, 0));
  let at = 0;
  for (const element of elements) {
    out.writeUInt32LE(element.length, at);
    out.set(element, at + 4);
    at += 4 + element.length;
  }
  return out;
}

export function decodeParameters(
  wire: Record<string, WireParameter> | undefined,
): Parameters | undefined {
  const entries = Object.entries(wire ?? {});
  if (entries.length === 0) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [key, p] of entries) {
    switch (p.parameter_choice) {
      case 'bool_param':
        out[key] = p.bool_param === true;
        break;
      case 'string_param':
        out[key] = p.string_param ?? '';
        break;
      case 'double_param':
        out[key] = p.double_param ?? 0;
        break;
      case 'int64_param':
      case 'uint64_param': {
        const text = (p.parameter_choice === 'int64_param' ? p.int64_param : p.uint64_param) ?? '0';
        // Beyond 2^53 a number would silently change value: keep the digits instead.
        out[key] = Number.isSafeInteger(Number(text)) ? Number(text) : text;
        break;
      }
      default:
        throw bad(`parameter ${key} has no value`);
    }
  }
  return out;
}

export function encodeParameters(
  parameters: Parameters | undefined,
): Record<string, WireParameter> {
  const out: Record<string, WireParameter> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (typeof value === 'boolean') out[key] = { bool_param: value };
    else if (typeof value === 'string') out[key] = { string_param: value };
    else if (Number.isSafeInteger(value)) out[key] = { int64_param: String(value) };
    else out[key] = { double_param: value };
  }
  return out;
}
