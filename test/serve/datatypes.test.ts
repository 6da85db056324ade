/**
 * Every OIP datatype ONNX Runtime supports makes the round trip through an Identity model: as
 * JSON in and out, and through Triton's binary-data extension (binary in, binary out), with the
 * binary tensors both aligned and misaligned in the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATATYPES, type Datatype } from '../../src/serve/types.js';
import type { ServeHandle } from '../../src/commands/serve.js';
import { buildModels, ONNX_MISSING, type TestModels } from './models.js';
import { infer, outputsOf, serving } from './client.js';

/** Four values per datatype, extremes included, each exact in its type. */
const SAMPLES: Record<Datatype, unknown[]> = {
  BOOL: [true, false, false, true],
  UINT8: [0, 1, 254, 255],
  UINT16: [0, 1, 65534, 65535],
  UINT32: [0, 1, 4294967294, 4294967295],
  UINT64: [0, 1, 12345, Number.MAX_SAFE_INTEGER],
  INT8: [-128, -1, 0, 127],
  INT16: [-32768, -1, 0, 32767],
  INT32: [-2147483648, -1, 0, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, -1, 0, Number.MAX_SAFE_INTEGER],
  FP16: [0.5, -2, 1024, 0.0999755859375],
  FP32: [0.5, -1.25, 1024.75, 0],
  FP64: [0.1, -1e300, 2.5, 0],
  BYTES: ['héllo', '', 'a"b\\c', '日本'],
};

/** The binary-data layout of the samples, written independently of the server's codec. */
function rawBytes(d: Datatype): Buffer {
  const v = SAMPLES[d];
  switch (d) {
    case 'BOOL':
      return Buffer.from(v.map((b) => (b === true ? 1 : 0)));
    case 'FP16':
      return Buffer.from(new Uint16Array([0x3800, 0xc000, 0x6400, 0x2e66]).buffer);
    case 'BYTES':
      return Buffer.concat(
        v.map((s) => {
          const bytes = Buffer.from(s as string);
          const length = Buffer.alloc(4);
          length.writeUInt32LE(bytes.length);
          return Buffer.concat([length, bytes]);
        }),
      );
    case 'UINT64':
      return Buffer.from(new BigUint64Array(v.map((n) => BigInt(n as number))).buffer);
    case 'INT64':
      return Buffer.from(new BigInt64Array(v.map((n) => BigInt(n as number))).buffer);
    default: {
      const Typed = {
        UINT8: Uint8Array,
        UINT16: Uint16Array,
        UINT32: Uint32Array,
        INT8: Int8Array,
        INT16: Int16Array,
        INT32: Int32Array,
        FP32: Float32Array,
        FP64: Float64Array,
      }[d];
      return Buffer.from(new Typed(v as number[]).buffer);
    }
  }
}

/** A binary-data request body whose JSON header is padded to `pad` bytes mod 8. */
function binaryRequest(d: Datatype, pad: number, binaryOut: boolean) {
  const bytes = rawBytes(d);
  const doc = {
    inputs: [
      { name: 'x', datatype: d, shape: [2, 2], parameters: { binary_data_size: bytes.length } },
    ],
    outputs: [{ name: 'y', parameters: { binary_data: binaryOut } }],
  };
  let header = JSON.stringify(doc);
  while (header.length % 8 !== pad) header += ' ';
  return {
    bytes,
    body: Buffer.concat([Buffer.from(header), bytes]),
    headers: { 'inference-header-content-length': String(header.length) },
  };
}

describe.skipIf(ONNX_MISSING !== undefined)('datatype round trips', () => {
  let models: TestModels;
  let server: ServeHandle;
  beforeAll(async () => {
    models = buildModels();
    server = await serving(DATATYPES.map((d) => models.identity(d)));
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    models.remove();
  });

  it.each(DATATYPES)('%s as JSON, nested', async (d) => {
    const data = [SAMPLES[d].slice(0, 2), SAMPLES[d].slice(2)];
    const a = await infer(server, `identity_${d}`, {
      inputs: [{ name: 'x', datatype: d, shape: [2, 2], data }],
    });
    expect(a.status, a.body.toString()).toBe(200);
    expect(outputsOf(a).y).toEqual({ name: 'y', datatype: d, shape: [2, 2], data: SAMPLES[d] });
  });

  it.each(DATATYPES)('%s as binary data, in and out', async (d) => {
    for (const pad of [0, 3]) {
      const { bytes, body, headers } = binaryRequest(d, pad, true);
      const a = await infer(server, `identity_${d}`, body, headers);
      expect(a.status, a.body.toString()).toBe(200);
      expect(a.headers['content-type']).toBe('application/octet-stream');
      const length = Number(a.headers['inference-header-content-length']);
      const doc = JSON.parse(a.body.subarray(0, length).toString()) as {
        outputs: { name: string; parameters: { binary_data_size: number } }[];
      };
      expect(doc.outputs[0]?.parameters.binary_data_size).toBe(bytes.length);
      expect(a.body.subarray(length).equals(bytes)).toBe(true);
    }
  });

  it.each(DATATYPES)('%s as binary data in, JSON out', async (d) => {
    const { body, headers } = binaryRequest(d, 5, false);
    const a = await infer(server, `identity_${d}`, body, headers);
    expect(a.status, a.body.toString()).toBe(200);
    expect(a.headers['inference-header-content-length']).toBeUndefined();
    expect(outputsOf(a).y?.data).toEqual(SAMPLES[d]);
  });
});
