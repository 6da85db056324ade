/**
 * Stacking for the batcher: which requests may share a run, joining their inputs along the
 * first dimension, and cutting each request's rows back out of the outputs.
 */
import type { InferRequest, Tensor, TensorData } from './types.js';
import { InferError } from './types.js';

/** The shared first dimension of every input, or undefined when the request cannot be batched. */
export function batchRows(request: InferRequest): number | undefined {
  const rows = request.inputs[0]?.shape[0];
  if (rows === undefined || rows <= 0) return undefined;
  for (const input of request.inputs) if (input.shape[0] !== rows) return undefined;
  return rows;
}

/** Requests share a batch only when everything but the row count agrees. */
export function batchKey(request: InferRequest): string {
  const [only] = request.inputs;
  // The common case, one input and nothing else, without sorting and JSON.
  if (
    request.inputs.length === 1 &&
    only !== undefined &&
    only.parameters === undefined &&
    request.outputs === undefined &&
    request.parameters === undefined
  )
    return `1\0${only.name}\0${only.datatype}\0${only.shape.slice(1).join(',')}`;
  const inputs = [...request.inputs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((input) => [input.name, input.datatype, input.shape.slice(1), input.parameters ?? null]);
  return JSON.stringify([inputs, request.outputs ?? null, request.parameters ?? null]);
}

export function stack(requests: readonly InferRequest[]): InferRequest {
  const [first] = requests;
  if (first === undefined) throw new Error('Internal error: an empty batch');
  const inputs = first.inputs.map((input): Tensor => {
    const parts = requests.map((request) => {
      const part = request.inputs.find((candidate) => candidate.name === input.name);
      if (part === undefined)
        throw new Error(`Internal error: batched request lacks ${input.name}`);
      return part;
    });
    const rows = parts.reduce((sum, part) => sum + (part.shape[0] ?? 0), 0);
    return {
      ...input,
      shape: [rows, ...input.shape.slice(1)],
      data: concat(parts.map((p) => p.data)),
    };
  });
  const id = requests.length === 1 ? first.id : `${first.id}+${requests.length - 1}`;
  return { ...first, id, inputs };
}

export function concat(parts: readonly TensorData[]): TensorData {
  const [first] = parts;
  if (first === undefined) throw new Error('Internal error: nothing to concatenate');
  if (Array.isArray(first)) return (parts as (readonly Uint8Array[])[]).flat();
  const typed = first as Exclude<TensorData, readonly Uint8Array[]>;
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const Ctor = typed.constructor as new (length: number) => typeof typed;
  const out = new Ctor(length);
  let offset = 0;
  for (const part of parts as (typeof typed)[]) {
    (out as { set(source: typeof typed, offset: number): void }).set(part, offset);
    offset += part.length;
  }
  return out;
}

export function sliceRows(output: Tensor, offset: number, rows: number, total: number): Tensor {
  if (output.shape[0] !== total) {
    throw new InferError(
      'internal',
      `output ${output.name} has first dimension ${output.shape[0]} for a batch of ${total} rows; ` +
        'this model cannot be batched, remove its batching settings',
    );
  }
  const perRow = output.shape.slice(1).reduce((product, dim) => product * dim, 1);
  const start = offset * perRow;
  const end = (offset + rows) * perRow;
  // Typed outputs are cut as views of the batch's result, which nothing else holds.
  const data = (
    ArrayBuffer.isView(output.data)
      ? output.data.subarray(start, end)
      : output.data.slice(start, end)
  ) as TensorData;
  return { ...output, shape: [rows, ...output.shape.slice(1)], data };
}
