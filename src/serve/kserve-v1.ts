/**
 * KServe's V1 (TF-Serving style) protocol over the same runtimes: `{"instances": [...]}` in,
 * `{"predictions": [...]}` out. A single-input model takes instances as rows of its input; a
 * multi-input model takes objects keyed by input name. Predictions are rows of the output, or
 * objects keyed by output name when there are several.
 */
import { randomUUID } from 'node:crypto';
import { dataFromJson, dataToValues } from './tensor-json.js';
import { InferError, type InferRequest, type Tensor, type TensorSpec } from './types.js';

const fail = (message: string): InferError => new InferError('bad-request', message);

/** The shape of nested arrays, read along their first elements. */
function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
    if (shape.length > 64) throw fail('instances are nested too deeply');
  }
  return shape;
}

function stack(spec: TensorSpec, rows: unknown[], where: string): Tensor {
  const shape = [rows.length, ...shapeOf(rows[0])];
  const count = shape.reduce((a, b) => a * b, 1);
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: dataFromJson(spec.datatype, rows, count, where),
  };
}

/** Decodes a V1 predict body into an OIP request for a model with `inputs`. */
export function decodePredict(
  doc: unknown,
  inputs: readonly TensorSpec[],
  id: string | undefined,
): InferRequest {
  if (typeof doc !== 'object' || doc === null || !('instances' in doc))
    throw fail('the request body must be a JSON object with "instances"');
  const instances = doc.instances;
  if (!Array.isArray(instances) || instances.length === 0)
    throw fail('"instances" must be a non-empty array');
  const [only] = inputs;
  if (inputs.length === 1 && only !== undefined) {
    return { id: id ?? randomUUID(), inputs: [stack(only, instances, `input "${only.name}"`)] };
  }
  const tensors = inputs.map((spec) => {
    const rows = instances.map((instance: unknown, i) => {
      if (typeof instance !== 'object' || instance === null || Array.isArray(instance))
        throw fail(
          `instances[${i}] must be an object keyed by input name (this model has ${inputs.length} inputs)`,
        );
      const value = (instance as Record<string, unknown>)[spec.name];
      if (value === undefined) throw fail(`instances[${i}] has no input "${spec.name}"`);
      return value;
    });
    return stack(spec, rows, `input "${spec.name}"`);
  });
  return { id: id ?? randomUUID(), inputs: tensors };
}

/** Splits flat row-major values into nested arrays of `shape`. */
function nest(values: unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return values;
  const [, ...inner] = shape;
  const size = inner.reduce((a, b) => a * b, 1);
  const rows: unknown[] = [];
  for (let i = 0; i < values.length; i += size) rows.push(nest(values.slice(i, i + size), inner));
  return rows;
}

/** The `predictions` of a V1 response. */
export function encodePredictions(outputs: readonly Tensor[]): unknown[] {
  const nested = outputs.map((t) => {
    const values = nest(dataToValues(t.datatype, t.data), t.shape);
    return { name: t.name, rows: t.shape.length === 0 ? [values[0]] : values };
  });
  const [only] = nested;
  if (nested.length === 1 && only !== undefined) return only.rows;
  const count = Math.max(...nested.map((n) => n.rows.length));
  return Array.from({ length: count }, (_, i) =>
    Object.fromEntries(nested.map((n) => [n.name, n.rows[i]])),
  );
}
