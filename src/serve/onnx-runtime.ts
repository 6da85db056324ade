/**
 * An ONNX model run in-process by ONNX Runtime: one session per loaded version, created once,
 * with its declared inputs and outputs reported as OIP tensor specs. onnxruntime-node is
 * imported here only, so nothing but `cairn serve` pays for loading it.
 */
import type * as ort from 'onnxruntime-node';
import { CairnError } from '../core/errors.js';
import type { ResolvedSource } from './source.js';
import {
  InferError,
  type Datatype,
  type InferRequest,
  type ModelRuntime,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from './types.js';

type OrtType = ort.Tensor.Type;

const TO_ORT: Readonly<Record<Datatype, OrtType>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
const FROM_ORT = new Map<string, Datatype>(
  Object.entries(TO_ORT).map(([oip, type]) => [type, oip as Datatype]),
);

export interface OnnxRuntimeOptions {
  /** the model's bytes (already verified by whoever read them) */
  bytes: Uint8Array;
  /** where they came from, for messages */
  file: string;
  /** intra-op threads; default: the machine's available parallelism */
  threads?: number;
}

function specOf(meta: ort.InferenceSession.ValueMetadata, file: string): TensorSpec {
  const datatype = meta.isTensor ? FROM_ORT.get(meta.type) : undefined;
  if (!meta.isTensor || datatype === undefined) {
    throw new CairnError(
      'unsupported-model',
      `${file}: ${meta.name} is ${meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor'}, which Cairn cannot serve`,
      { hint: 'Serve models whose inputs and outputs are tensors of an OIP datatype.' },
    );
  }
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

function toOrt(runtime: typeof ort, t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  if (t.datatype === 'BYTES') {
    const decoder = new TextDecoder();
    const strings = (t.data as readonly Uint8Array[]).map((e) => decoder.decode(e));
    return new runtime.Tensor('string', strings, dims);
  }
  return new runtime.Tensor(
    TO_ORT[t.datatype],
    t.data as Exclude<TensorData, readonly Uint8Array[]>,
    dims,
  );
}

function fromOrt(name: string, value: ort.Tensor): Tensor {
  const datatype = FROM_ORT.get(value.type);
  if (datatype === undefined)
    throw new Error(`Internal error: output ${name} has type ${value.type}`);
  const data =
    datatype === 'BYTES'
      ? (value.data as string[]).map((s) => new TextEncoder().encode(s))
      : (value.data as TensorData);
  return { name, datatype, shape: value.dims, data };
}

/**
 * Loads onnxruntime-node with Microsoft's telemetry off unless the user's environment says
 * otherwise: its Linux build otherwise keeps an event database under ~/.cache/Microsoft, writes
 * a `/tmp/mat-debug-PID.log` on every start and tries to upload events. ONNX Runtime reads
 * `ORT_DISABLE_TELEMETRY` when its environment is created, so it is set before the first import.
 */
function loadOnnxRuntime(): Promise<typeof ort> {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  return import('onnxruntime-node');
}

/** Starts loading ONNX Runtime's native module early, so it overlaps reading the models. */
export function preloadOnnxRuntime(): void {
  loadOnnxRuntime().catch(() => undefined);
}

/**
 * A session over a resolved SOURCE's bytes, with their digest, which may have been hashing on
 * the pool meanwhile (the bytes were verified against their layer first); a digest that fails
 * closes the session and rethrows.
 */
export async function createSourceRuntime(
  source: ResolvedSource,
  threads: number | undefined,
): Promise<{ runtime: ModelRuntime; digest: string }> {
  const runtime = await createOnnxRuntime({
    bytes: source.bytes,
    file: source.file,
    ...(threads === undefined ? {} : { threads }),
  });
  const digest = await source.digest.catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  return { runtime, digest };
}

/** Creates the session; a file ONNX Runtime cannot load is a CairnError naming it. */
export async function createOnnxRuntime(o: OnnxRuntimeOptions): Promise<ModelRuntime> {
  const runtime = await loadOnnxRuntime();
  let session: ort.InferenceSession;
  try {
    session = await runtime.InferenceSession.create(o.bytes, {
      // Without --threads, ONNX Runtime sizes its own pool (physical cores); forcing one thread
      // per logical CPU halved small-model throughput on a 2-vCPU machine (docs/benchmarks.md).
      ...(o.threads === undefined ? {} : { intraOpNumThreads: o.threads }),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Run failures come back as errors the client gets; ORT's own log would repeat them.
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw new CairnError(
      'bad-model',
      `${o.file} is not a model ONNX Runtime can load: ${(error as Error).message}`,
      {
        hint: 'Check that the file is a complete .onnx model (re-export or re-pull it).',
        cause: error,
      },
    );
  }
  const inputs = session.inputMetadata.map((m) => specOf(m, o.file));
  const outputs = session.outputMetadata.map((m) => specOf(m, o.file));
  const allOutputs = outputs.map((s) => s.name);
  return {
    platform: 'onnx_onnxv1',
    inputs,
    outputs,
    ready: () => true,
    async infer(request: InferRequest): Promise<readonly Tensor[]> {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of request.inputs) feeds[t.name] = toOrt(runtime, t);
      const names = request.outputs?.map((r) => r.name) ?? allOutputs;
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(feeds, names);
      } catch (error) {
        // Inputs already match the declared specs; what fails now is a constraint between
        // them (symbolic dimensions, broadcasting) that only the graph knows.
        throw new InferError(
          'bad-request',
          `the model cannot run on these inputs: ${(error as Error).message}`,
          { cause: error },
        );
      }
      return names.map((n) => {
        const value = results[n];
        if (value === undefined) throw new Error(`Internal error: ONNX Runtime returned no ${n}`);
        return fromOrt(n, value);
      });
    },
    close: () => session.release(),
  };
}
