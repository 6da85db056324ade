/**
 * OIP REST inference documents ⇄ decoded requests and responses, including Triton's
 * binary-data extension: binary tensors follow the JSON header, whose length the
 * `Inference-Header-Content-Length` header gives, in input order, each `binary_data_size` long.
 */
import { randomUUID } from 'node:crypto';
import { fromRawBytes, isDatatype, toRawBytes } from './dtype.js';
import { dataFromJson, dataToJson } from './tensor-json.js';
import type { InferRequest, InferResponse, Parameters, RequestedOutput, Tensor } from './types.js';
import { InferError } from './types.js';

const fail = (message: string): InferError => new InferError('bad-request', message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `parameters` map: flat string, number and boolean values only. */
export function parseParameters(value: unknown, where: string): Parameters | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw fail(`${where}: "parameters" must be an object`);
  for (const [key, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw fail(`${where}: parameter "${key}" must be a string, number or boolean`);
  }
  return value as Parameters;
}

/** A shape: non-negative integers; returns the element count. */
export function shapeCount(shape: unknown, where: string): number {
  if (!Array.isArray(shape)) throw fail(`${where}: "shape" must be an array of integers`);
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      throw fail(
        `${where}: shape ${JSON.stringify(shape)} has ${JSON.stringify(d)}; dimensions are integers ≥ 0`,
      );
    count *= d;
  }
  return count;
}

function parseJson(text: Buffer): unknown {
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw fail(`the request body is not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Decodes an inference request body. `headerLength` is the `Inference-Header-Content-Length`
 * value when binary tensors follow the JSON; `fallbackId` names the request when it has no `id`.
 */
export function decodeInferRequest(
  body: Buffer,
  headerLength: number | undefined,
  fallbackId: string | undefined,
): InferRequest {
  if (headerLength !== undefined && headerLength > body.length)
    throw fail(
      `Inference-Header-Content-Length ${headerLength} exceeds the body (${body.length} bytes)`,
    );
  const doc = parseJson(headerLength === undefined ? body : body.subarray(0, headerLength));
  if (!isObject(doc)) throw fail('the request body must be a JSON object');
  if (doc.id !== undefined && typeof doc.id !== 'string') throw fail('"id" must be a string');
  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0)
    throw fail('"inputs" must be a non-empty array');
  let offset = headerLength ?? body.length;
  const inputs = doc.inputs.map((raw: unknown, i): Tensor => {
    if (!isObject(raw) || typeof raw.name !== 'string') throw fail(`inputs[${i}] needs a "name"`);
    const where = `input "${raw.name}"`;
    if (!isDatatype(raw.datatype))
      throw fail(
        `${where}: datatype ${raw.datatype === undefined ? 'is missing' : JSON.stringify(raw.datatype)}; expected one of BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES`,
      );
    const count = shapeCount(raw.shape, where);
    const parameters = parseParameters(raw.parameters, where);
    const size = parameters?.binary_data_size;
    let data;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
        throw fail(`${where}: binary_data_size must be an integer ≥ 0`);
      if (headerLength === undefined)
        throw fail(`${where}: binary_data_size needs the Inference-Header-Content-Length header`);
      if (offset + size > body.length)
        throw fail(`${where}: binary_data_size ${size} runs past the end of the body`);
      data = fromRawBytes(raw.datatype, body.subarray(offset, offset + size), where);
      offset += size;
      if (data.length !== count)
        throw fail(
          `${where}: binary data holds ${data.length} elements but the shape needs ${count}`,
        );
    } else {
      if (raw.data === undefined) throw fail(`${where}: needs "data" or binary_data_size`);
      data = dataFromJson(raw.datatype, raw.data, count, where);
    }
    const shape = raw.shape as number[];
    return {
      name: raw.name,
      datatype: raw.datatype,
      shape,
      data,
      ...(parameters && { parameters }),
    };
  });
  if (offset !== body.length)
    throw fail(`${body.length - offset} bytes of binary data follow the last input`);
  const parameters = parseParameters(doc.parameters, 'request');
  return {
    id: doc.id ?? fallbackId ?? randomUUID(),
    inputs,
    ...(parameters && { parameters }),
    ...(doc.outputs !== undefined && { outputs: parseOutputs(doc.outputs) }),
  };
}

function parseOutputs(value: unknown): RequestedOutput[] {
  if (!Array.isArray(value)) throw fail('"outputs" must be an array');
  return value.map((raw: unknown, i) => {
    if (!isObject(raw) || typeof raw.name !== 'string') throw fail(`outputs[${i}] needs a "name"`);
    const parameters = parseParameters(raw.parameters, `output "${raw.name}"`);
    return { name: raw.name, ...(parameters && { parameters }) };
  });
}

/** Whether an output goes as binary data (its own `binary_data`, else the request's default). */
function wantsBinary(request: InferRequest, name: string): boolean {
  const own = request.outputs?.find((o) => o.name === name)?.parameters?.binary_data;
  return own === undefined ? request.parameters?.binary_data_output === true : own === true;
}

/**
 * The response body — JSON text, or the JSON header and binary outputs as bytes with the
 * header's length — built as one string without intermediate objects.
 */
export function encodeInferResponse(
  request: InferRequest,
  response: InferResponse,
): { body: string } | { body: Buffer; headerLength: number } {
  const binary: Uint8Array[] = [];
  let outputs = '';
  for (const t of response.outputs) {
    if (outputs !== '') outputs += ',';
    outputs += `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    if (!wantsBinary(request, t.name)) {
      const params =
        t.parameters === undefined ? '' : `,"parameters":${JSON.stringify(t.parameters)}`;
      outputs += `${params},"data":${dataToJson(t.datatype, t.data)}}`;
      continue;
    }
    const bytes = toRawBytes(t.data);
    binary.push(bytes);
    outputs += `,"parameters":${JSON.stringify({ ...t.parameters, binary_data_size: bytes.byteLength })}}`;
  }
  const params =
    response.parameters === undefined ? '' : `,"parameters":${JSON.stringify(response.parameters)}`;
  const json = `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)},"id":${JSON.stringify(response.id)}${params},"outputs":[${outputs}]}`;
  if (binary.length === 0) return { body: json };
  const header = Buffer.from(json);
  return { body: Buffer.concat([header, ...binary]), headerLength: header.length };
}
