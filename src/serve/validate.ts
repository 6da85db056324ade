/**
 * Checks a decoded request against what the model declares — every input present once, no
 * unknown ones, datatype and shape (fixed dimensions equal, -1 any), requested outputs known —
 * so runtimes only ever see requests they can run and clients learn what was expected.
 */
import { InferError, type InferRequest, type TensorSpec } from './types.js';

const show = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function shapeFits(spec: readonly number[], actual: readonly number[]): boolean {
  if (spec.length !== actual.length) return false;
  for (let i = 0; i < spec.length; i++) {
    const d = spec[i] as number;
    if (d >= 0 && d !== actual[i]) return false;
  }
  return true;
}

/** A model's inputs by name, made once per model (runtimes keep their spec arrays). */
const byName = new WeakMap<readonly TensorSpec[], ReadonlyMap<string, TensorSpec>>();

function specsByName(inputs: readonly TensorSpec[]): ReadonlyMap<string, TensorSpec> {
  let map = byName.get(inputs);
  if (map === undefined) {
    map = new Map(inputs.map((s) => [s.name, s]));
    byName.set(inputs, map);
  }
  return map;
}

/** Throws a 400 naming the input or output and what the model expects. */
export function validateRequest(
  request: InferRequest,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): void {
  const specs = specsByName(inputs);
  const given = request.inputs;
  for (let i = 0; i < given.length; i++) {
    const tensor = given[i] as InferRequest['inputs'][number];
    const spec = specs.get(tensor.name);
    const where = `input "${tensor.name}"`;
    if (spec === undefined) {
      throw new InferError(
        'bad-request',
        `${where} is not an input of this model; its inputs are ${inputs.map((s) => `"${s.name}"`).join(', ')}`,
      );
    }
    for (let j = 0; j < i; j++) {
      if (given[j]?.name === tensor.name)
        throw new InferError('bad-request', `${where} is given twice`);
    }
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
  // Every given input is known and given once: all are there when the counts agree.
  if (given.length !== inputs.length) {
    const seen = new Set(given.map((t) => t.name));
    const missing = inputs.filter((s) => !seen.has(s.name));
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
