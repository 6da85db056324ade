/**
 * The OIP REST JSON a process runtime speaks to its child: an InferRequest to a request body,
 * a response body back to tensors, and the child's model metadata to TensorSpecs. Only what
 * the JSON form can carry: BYTES must be UTF-8 text and FP16 has no JSON form here.
 */
import { typedArrayOf } from './dtype.js';
import type { Datatype, InferRequest, Tensor, TensorSpec } from './types.js';
import { DATATYPES, InferError } from './types.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The JSON text of `request` (written by hand: 64-bit integers stay exact). */
export function requestBody(request: InferRequest): string {
  const inputs = request.inputs.map(
    (t) =>
      `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":${JSON.stringify(t.shape)},` +
      `${t.parameters === undefined ? '' : `"parameters":${JSON.stringify(t.parameters)},`}"data":${dataJson(t)}}`,
  );
  const head = [`"id":${JSON.stringify(request.id)}`];
  if (request.parameters !== undefined)
    head.push(`"parameters":${JSON.stringify(request.parameters)}`);
  if (request.outputs !== undefined) head.push(`"outputs":${JSON.stringify(request.outputs)}`);
  return `{${head.join(',')},"inputs":[${inputs.join(',')}]}`;
}

function dataJson(tensor: Tensor): string {
  const data = tensor.data;
  if (tensor.datatype === 'FP16') {
    throw new InferError(
      'bad-request',
      `input ${tensor.name}: FP16 cannot be sent to a process runtime as JSON`,
    );
  }
  if (Array.isArray(data)) {
    return JSON.stringify(
      (data as readonly Uint8Array[]).map((bytes, i) => {
        try {
          return decoder.decode(bytes);
        } catch {
          throw new InferError(
            'bad-request',
            `input ${tensor.name}: BYTES element ${i} is not UTF-8 text`,
          );
        }
      }),
    );
  }
  const values = Array.from(data as ArrayLike<number | bigint>, (v) => String(v));
  if (tensor.datatype === 'BOOL')
    return `[${values.map((v) => (v === '0' ? 'false' : 'true')).join(',')}]`;
  // NaN and infinities have no JSON form.
  if (values.some((v) => v === 'NaN' || v.endsWith('Infinity'))) {
    throw new InferError(
      'bad-request',
      `input ${tensor.name}: NaN or infinite values cannot be sent as JSON`,
    );
  }
  return `[${values.join(',')}]`;
}

const broken = (what: string) => new InferError('internal', `the model process answered ${what}`);

/** The outputs of a response body from the child. */
export function responseOutputs(body: unknown): Tensor[] {
  const outputs = (body as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) throw broken('without an outputs list');
  return outputs.map((raw: unknown): Tensor => {
    const o = raw as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };
    const { name, datatype, shape } = o;
    if (
      typeof name !== 'string' ||
      !isDatatype(datatype) ||
      datatype === 'FP16' ||
      !isShape(shape)
    ) {
      throw broken(
        `an output without a valid name, datatype or shape: ${JSON.stringify(raw).slice(0, 200)}`,
      );
    }
    const flat: unknown[] = Array.isArray(o.data) ? (o.data as unknown[]).flat(Infinity) : [];
    const count = shape.reduce((a, b) => a * b, 1);
    if (flat.length !== count)
      throw broken(`output ${name} with ${flat.length} elements for shape [${shape.join(', ')}]`);
    if (datatype === 'BYTES') {
      if (!flat.every((v) => typeof v === 'string'))
        throw broken(`non-string BYTES in output ${name}`);
      const encoder = new TextEncoder();
      return { name, datatype, shape, data: flat.map((s) => encoder.encode(s)) };
    }
    const numbers = flat.map((v) => (typeof v === 'boolean' ? Number(v) : v));
    if (!numbers.every((v) => typeof v === 'number'))
      throw broken(`non-numeric data in ${datatype} output ${name}`);
    return { name, datatype, shape, data: typedArrayOf(datatype, numbers) };
  });
}

/** The inputs, outputs and platform of the child's `GET /v2/models/{name}` answer. */
export function modelSignature(body: unknown): {
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
} {
  const m = body as { platform?: unknown; inputs?: unknown; outputs?: unknown } | null;
  const specs = (list: unknown, which: string): TensorSpec[] => {
    if (!Array.isArray(list)) throw broken(`model metadata without ${which}`);
    return list.map((raw: unknown) => {
      const { name, datatype, shape } = raw as {
        name?: unknown;
        datatype?: unknown;
        shape?: unknown;
      };
      if (
        typeof name !== 'string' ||
        !isDatatype(datatype) ||
        !Array.isArray(shape) ||
        !shape.every(Number.isInteger)
      ) {
        throw broken(
          `model metadata with a bad ${which} entry: ${JSON.stringify(raw).slice(0, 200)}`,
        );
      }
      return { name, datatype, shape: shape as number[] };
    });
  };
  return {
    platform: typeof m?.platform === 'string' && m.platform !== '' ? m.platform : 'process',
    inputs: specs(m?.inputs, 'inputs'),
    outputs: specs(m?.outputs, 'outputs'),
  };
}

function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isInteger(d) && (d as number) >= 0);
}
