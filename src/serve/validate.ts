/**
 * Checks a decoded request against what the model declares — every input present once, no
 * unknown ones, datatype and shape (fixed dimensions equal, -1 any), requested outputs known —
 * so runtimes only ever see requests they can run and clients learn what was expected.
 */
import { InferError, type InferRequest, type TensorSpec } from './types.js';

const show = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function shapeFits(spec: readonly number[], actual: readonly number[]): boolean {
  return spec.length === actual.length && spec.every((d, i) => d < 0 || d === actual[i]);
}

/** Throws a 400 naming the input or output and what the model expects. */
export function validateRequest(
  request: InferRequest,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): void {
  const seen = new Set<string>();
  for (const tensor of request.inputs) {
    const spec = inputs.find((s) => s.name === tensor.name);
    const where = `input "${tensor.name}"`;
    if (spec === undefined) {
      throw new InferError(
        'bad-request',
        `${where} is not an input of this model; its inputs are ${inputs.map((s) => `"${s.name}"`).join(', ')}`,
      );
    }
    if (seen.has(tensor.name)) throw new InferError('bad-request', `${where} is given twice`);
    seen.add(tensor.name);
    if (spec.datatype !== tensor.datatype) {
      throw new InferError(
        'bad-request',
        `${where}: expected datatype ${spec.datatype}, got ${tensor.datatype}`,
      );
    }
    if (!shapeFits(spec.shape, tensor.shape)) {
      throw new InferError(
        'bad-request',
        `${where}: expected shape ${show(spec.shape)} (-1 is any size), got ${show(tensor.shape)}`,
      );
    }
  }
  const missing = inputs.filter((s) => !seen.has(s.name));
  if (missing.length > 0) {
    throw new InferError(
      'bad-request',
      `missing input ${missing.map((s) => `"${s.name}" (${s.datatype} ${show(s.shape)})`).join(', ')}`,
    );
  }
  for (const o of request.outputs ?? []) {
    if (!outputs.some((s) => s.name === o.name)) {
      throw new InferError(
        'bad-request',
        `output "${o.name}" is not an output of this model; its outputs are ${outputs.map((s) => `"${s.name}"`).join(', ')}`,
      );
    }
  }
}
