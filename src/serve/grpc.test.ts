import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadInferenceProto,
  startGrpcServer,
  type GrpcServer,
  type InferenceBackend,
} from './grpc.js';
import { InferError, type InferFailure, type InferRequest, type Tensor } from './types.js';

/**
 * A backend with one model, `echo` (version 1), that answers each input X as output X_out;
 * request parameter `fail` makes it fail with that InferError reason, or `crash` with a plain Error.
 */
class EchoBackend implements InferenceBackend {
  last: InferRequest | undefined;
  live = () => true;
  ready = () => true;
  modelReady(name: string): boolean {
    if (name === 'echo') return true;
    if (name === 'cold') return false;
    throw new InferError('not-found', `no model ${name}`);
  }
  serverMetadata = () => ({ name: 'cairn', version: '0.1.0', extensions: ['model_repository'] });
  modelMetadata(name: string) {
    if (name !== 'echo') throw new InferError('not-found', `no model ${name}`);
    return {
      name,
      versions: ['1'],
      platform: 'test_echo',
      inputs: [{ name: 'X', datatype: 'FP32' as const, shape: [-1, 4] }],
      outputs: [{ name: 'X_out', datatype: 'FP32' as const, shape: [-1, 4] }],
    };
  }
  infer(name: string, version: string | undefined, request: InferRequest) {
    this.last = request;
    if (name !== 'echo') return Promise.reject(new InferError('not-found', `no model ${name}`));
    const fail = request.parameters?.fail;
    if (typeof fail === 'string')
      return Promise.reject(new InferError(fail as InferFailure, `asked to fail: ${fail}`));
    if (request.parameters?.crash === true)
      return Promise.reject(new Error('secret internal detail'));
    const outputs: Tensor[] = request.inputs.map((t) => ({ ...t, name: `${t.name}_out` }));
    return Promise.resolve({
      modelName: name,
      modelVersion: version ?? '1',
      id: request.id,
      parameters: { served_by: 'echo', rows: 3 },
      outputs,
    });
  }
}

type Call = (request: object) => Promise<Record<string, unknown>>;
let server: GrpcServer;
let client: grpc.Client;
const backend = new EchoBackend();
const observed: { model: string; status: number }[] = [];

function rpc(method: string): Call {
  const fn = (
    client as unknown as Record<
      string,
      (r: object, cb: grpc.requestCallback<Record<string, unknown>>) => void
    >
  )[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  return (request) =>
    new Promise((resolve, reject) => {
      fn.call(client, request, (error, value) => {
        if (error !== null) reject(error);
        else resolve(value ?? {});
      });
    });
}

beforeAll(async () => {
  server = await startGrpcServer(backend, { observe: (e) => observed.push(e) });
  const pkg = loadInferenceProto().inference as grpc.GrpcObject;
  const Client = pkg.GRPCInferenceService as grpc.ServiceClientConstructor;
  client = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await server.close();
});

/** Every datatype: typed contents as sent, the decoded data expected, and its raw bytes. */
const CASES: {
  datatype: string;
  field?: string;
  values: unknown[];
  decoded: ArrayLike<unknown>;
  raw: Buffer;
}[] = [
  {
    datatype: 'BOOL',
    field: 'bool_contents',
    values: [true, false, true],
    decoded: new Uint8Array([1, 0, 1]),
    raw: Buffer.from([1, 0, 1]),
  },
  {
    datatype: 'UINT8',
    field: 'uint_contents',
    values: [0, 255, 7],
    decoded: new Uint8Array([0, 255, 7]),
    raw: Buffer.from([0, 255, 7]),
  },
  {
    datatype: 'UINT16',
    field: 'uint_contents',
    values: [0, 65535, 9],
    decoded: new Uint16Array([0, 65535, 9]),
    raw: le(new Uint16Array([0, 65535, 9])),
  },
  {
    datatype: 'UINT32',
    field: 'uint_contents',
    values: [0, 4294967295, 1],
    decoded: new Uint32Array([0, 4294967295, 1]),
    raw: le(new Uint32Array([0, 4294967295, 1])),
  },
  {
    datatype: 'UINT64',
    field: 'uint64_contents',
    values: ['0', '18446744073709551615', '5'],
    decoded: new BigUint64Array([0n, 18446744073709551615n, 5n]),
    raw: le(new BigUint64Array([0n, 18446744073709551615n, 5n])),
  },
  {
    datatype: 'INT8',
    field: 'int_contents',
    values: [-128, 127, 0],
    decoded: new Int8Array([-128, 127, 0]),
    raw: Buffer.from([0x80, 0x7f, 0]),
  },
  {
    datatype: 'INT16',
    field: 'int_contents',
    values: [-32768, 32767, 1],
    decoded: new Int16Array([-32768, 32767, 1]),
    raw: le(new Int16Array([-32768, 32767, 1])),
  },
  {
    datatype: 'INT32',
    field: 'int_contents',
    values: [-2147483648, 2147483647, 3],
    decoded: new Int32Array([-2147483648, 2147483647, 3]),
    raw: le(new Int32Array([-2147483648, 2147483647, 3])),
  },
  {
    datatype: 'INT64',
    field: 'int64_contents',
    values: ['-9223372036854775808', '9223372036854775807', '1'],
    decoded: new BigInt64Array([-9223372036854775808n, 9223372036854775807n, 1n]),
    raw: le(new BigInt64Array([-9223372036854775808n, 9223372036854775807n, 1n])),
  },
  {
    datatype: 'FP32',
    field: 'fp32_contents',
    values: [1.5, -2.25, 0],
    decoded: new Float32Array([1.5, -2.25, 0]),
    raw: le(new Float32Array([1.5, -2.25, 0])),
  },
  {
    datatype: 'FP64',
    field: 'fp64_contents',
    values: [Math.PI, -1e300, 0],
    decoded: new Float64Array([Math.PI, -1e300, 0]),
    raw: le(new Float64Array([Math.PI, -1e300, 0])),
  },
  {
    datatype: 'FP16',
    values: [],
    decoded: new Uint16Array([0x3c00, 0xc000, 0x7bff]),
    raw: le(new Uint16Array([0x3c00, 0xc000, 0x7bff])),
  },
];

/** Little-endian bytes, written one element at a time through a DataView (not a buffer alias). */
function le(
  array:
    | Uint16Array
    | Int16Array
    | Uint32Array
    | Int32Array
    | Float32Array
    | Float64Array
    | BigInt64Array
    | BigUint64Array,
): Buffer {
  const out = Buffer.alloc(array.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const size = array.BYTES_PER_ELEMENT;
  array.forEach((v: number | bigint, i: number) => {
    if (array instanceof Float32Array) view.setFloat32(i * size, v as number, true);
    else if (array instanceof Float64Array) view.setFloat64(i * size, v as number, true);
    else if (array instanceof BigInt64Array) view.setBigInt64(i * size, v as bigint, true);
    else if (array instanceof BigUint64Array) view.setBigUint64(i * size, v as bigint, true);
    else if (array instanceof Int16Array) view.setInt16(i * size, v as number, true);
    else if (array instanceof Uint16Array) view.setUint16(i * size, v as number, true);
    else if (array instanceof Int32Array) view.setInt32(i * size, v as number, true);
    else view.setUint32(i * size, v as number, true);
  });
  return out;
}

const WORDS = [Buffer.from('héllo'), Buffer.alloc(0), Buffer.from([0, 255])];
const WORDS_RAW = Buffer.concat(WORDS.flatMap((w) => [le(new Uint32Array([w.length])), w]));

describe('OIP gRPC ModelInfer', () => {
  for (const c of CASES.filter((c) => c.field !== undefined)) {
    it(`decodes ${c.datatype} typed contents and answers in raw (default) or typed contents`, async () => {
      const input = {
        name: 'X',
        datatype: c.datatype,
        shape: [3],
        contents: { [c.field ?? '']: c.values },
      };
      const res = await rpc('ModelInfer')({ model_name: 'echo', id: 'r1', inputs: [input] });
      expect(backend.last?.inputs[0]?.data).toEqual(c.decoded);
      expect(res.id).toBe('r1');
      expect(res.raw_output_contents).toEqual([c.raw]);

      const typed = await rpc('ModelInfer')({
        model_name: 'echo',
        inputs: [input],
        parameters: { binary_data_output: { bool_param: false } },
      });
      expect(typed.raw_output_contents).toEqual([]);
      const [out] = typed.outputs as {
        name: string;
        shape: string[];
        contents: Record<string, unknown[]>;
      }[];
      expect(out?.name).toBe('X_out');
      expect(out?.shape).toEqual(['3']);
      expect(out?.contents[c.field ?? '']).toEqual(c.values);
    });
  }

  for (const c of CASES) {
    it(`decodes ${c.datatype} raw contents and answers them byte for byte`, async () => {
      const input = { name: 'X', datatype: c.datatype, shape: [1, 3] };
      const res = await rpc('ModelInfer')({
        model_name: 'echo',
        inputs: [input],
        raw_input_contents: [c.raw],
      });
      expect(backend.last?.inputs[0]?.data).toEqual(c.decoded);
      expect(backend.last?.inputs[0]?.shape).toEqual([1, 3]);
      expect(res.raw_output_contents).toEqual([c.raw]);
    });
  }

  it('carries BYTES both ways, typed and raw', async () => {
    const typedIn = {
      name: 'S',
      datatype: 'BYTES',
      shape: [3],
      contents: { bytes_contents: WORDS },
    };
    const res = await rpc('ModelInfer')({ model_name: 'echo', inputs: [typedIn] });
    expect(backend.last?.inputs[0]?.data).toEqual(WORDS.map((w) => new Uint8Array(w)));
    expect(res.raw_output_contents).toEqual([WORDS_RAW]);
    const rawIn = { name: 'S', datatype: 'BYTES', shape: [3] };
    const typed = await rpc('ModelInfer')({
      model_name: 'echo',
      inputs: [rawIn],
      raw_input_contents: [WORDS_RAW],
      parameters: { binary_data_output: { bool_param: false } },
    });
    expect(
      (typed.outputs as { contents: { bytes_contents: Buffer[] } }[])[0]?.contents.bytes_contents,
    ).toEqual(WORDS);
  });

  it('decodes parameters and encodes the response parameters', async () => {
    const res = await rpc('ModelInfer')({
      model_name: 'echo',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
      outputs: [{ name: 'X_out' }],
      parameters: {
        a: { int64_param: '5' },
        b: { string_param: 'x' },
        c: { bool_param: true },
        d: { double_param: 0.5 },
      },
    });
    expect(backend.last?.parameters).toEqual({ a: 5, b: 'x', c: true, d: 0.5 });
    expect(backend.last?.outputs).toEqual([{ name: 'X_out' }]);
    expect(backend.last?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.parameters).toEqual({
      served_by: { string_param: 'echo', parameter_choice: 'string_param' },
      rows: { int64_param: '3', parameter_choice: 'int64_param' },
    });
  });

  it.each([
    [
      'raw FP32 contents one byte short',
      {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [2] }],
        raw_input_contents: [Buffer.alloc(7)],
      },
      /7 bytes; 2 FP32 elements need 8/,
    ],
    [
      'raw BYTES cut inside a length prefix',
      {
        inputs: [{ name: 'S', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [Buffer.from([5, 0])],
      },
      /inside a length prefix/,
    ],
    [
      'raw BYTES element past the end',
      {
        inputs: [{ name: 'S', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [Buffer.from([5, 0, 0, 0, 1])],
      },
      /runs past the end/,
    ],
    [
      'raw BYTES with fewer elements than the shape',
      { inputs: [{ name: 'S', datatype: 'BYTES', shape: [2] }], raw_input_contents: [WORDS_RAW] },
      /holds 2 elements but 3 were sent/,
    ],
    [
      'fewer raw entries than inputs',
      {
        inputs: [
          { name: 'A', datatype: 'FP32', shape: [1] },
          { name: 'B', datatype: 'FP32', shape: [1] },
        ],
        raw_input_contents: [Buffer.alloc(4)],
      },
      /1 entries for 2 inputs/,
    ],
    [
      'typed contents not matching the shape',
      {
        inputs: [
          { name: 'X', datatype: 'FP32', shape: [2, 2], contents: { fp32_contents: [1, 2, 3] } },
        ],
      },
      /holds 4 elements but 3 were sent/,
    ],
    [
      'an INT8 element out of range',
      { inputs: [{ name: 'X', datatype: 'INT8', shape: [1], contents: { int_contents: [300] } }] },
      /does not fit INT8/,
    ],
    [
      'FP16 in typed contents',
      { inputs: [{ name: 'X', datatype: 'FP16', shape: [1], contents: {} }] },
      /FP16 has no typed contents/,
    ],
    [
      'an unknown datatype',
      { inputs: [{ name: 'X', datatype: 'BF16', shape: [1], contents: {} }] },
      /unknown datatype BF16/,
    ],
  ])('rejects %s with INVALID_ARGUMENT', async (_, request, message) => {
    const call = rpc('ModelInfer')({ model_name: 'echo', ...request });
    await expect(call).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(call).rejects.toThrow(message);
  });

  it.each([
    ['not-found', grpc.status.NOT_FOUND],
    ['unavailable', grpc.status.UNAVAILABLE],
    ['too-large', grpc.status.RESOURCE_EXHAUSTED],
    ['bad-request', grpc.status.INVALID_ARGUMENT],
    ['timeout', grpc.status.DEADLINE_EXCEEDED],
    ['internal', grpc.status.INTERNAL],
  ])('maps InferError %s to gRPC status %i', async (reason, code) => {
    const call = rpc('ModelInfer')({
      model_name: 'echo',
      inputs: [],
      parameters: { fail: { string_param: reason } },
    });
    await expect(call).rejects.toMatchObject({ code, details: `asked to fail: ${reason}` });
  });

  it('answers INTERNAL without details for an unexpected error, and reports statuses', async () => {
    const call = rpc('ModelInfer')({
      model_name: 'echo',
      inputs: [],
      parameters: { crash: { bool_param: true } },
    });
    await expect(call).rejects.toMatchObject({
      code: grpc.status.INTERNAL,
      details: 'internal error; see the server log',
    });
    expect(observed.at(-1)).toMatchObject({ model: 'echo', status: 500 });
    expect(observed.some((e) => e.status === 200)).toBe(true);
    expect(observed.some((e) => e.status === 404)).toBe(true);
  });
});

describe('OIP gRPC message limits', () => {
  it('refuses a request larger than maxMessageBytes with RESOURCE_EXHAUSTED', async () => {
    const small = await startGrpcServer(new EchoBackend(), { maxMessageBytes: 1024 });
    const pkg = loadInferenceProto().inference as grpc.GrpcObject;
    const Client = pkg.GRPCInferenceService as grpc.ServiceClientConstructor;
    const smallClient = new Client(`127.0.0.1:${small.port}`, grpc.credentials.createInsecure());
    try {
      const call = new Promise((resolve, reject) => {
        (
          smallClient as unknown as Record<
            string,
            (r: object, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void
          >
        ).ModelInfer?.(
          {
            model_name: 'echo',
            inputs: [{ name: 'X', datatype: 'FP32', shape: [1024] }],
            raw_input_contents: [Buffer.alloc(4096)],
          },
          (error, value) => {
            if (error === null) resolve(value);
            else reject(error);
          },
        );
      });
      await expect(call).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    } finally {
      smallClient.close();
      await small.close();
    }
  });
});

describe('OIP gRPC health and metadata', () => {
  it('answers live, ready, model ready and metadata', async () => {
    expect(await rpc('ServerLive')({})).toEqual({ live: true });
    expect(await rpc('ServerReady')({})).toEqual({ ready: true });
    expect(await rpc('ModelReady')({ name: 'echo' })).toEqual({ ready: true });
    expect(await rpc('ModelReady')({ name: 'cold', version: '2' })).toEqual({ ready: false });
    await expect(rpc('ModelReady')({ name: 'nope' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    expect(await rpc('ServerMetadata')({})).toEqual({
      name: 'cairn',
      version: '0.1.0',
      extensions: ['model_repository'],
    });
    expect(await rpc('ModelMetadata')({ name: 'echo' })).toEqual({
      name: 'echo',
      versions: ['1'],
      platform: 'test_echo',
      inputs: [{ name: 'X', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [{ name: 'X_out', datatype: 'FP32', shape: ['-1', '4'] }],
    });
    await expect(rpc('ModelMetadata')({ name: 'nope' })).rejects.toThrow(/no model nope/);
  });
});
