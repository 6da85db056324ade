/**
 * `environments/<env>.yaml`: what git declares an environment runs — per model, the ModelKit
 * by digest, runtime and serve options, and how a new digest rolls out (weighted steps, pauses
 * and analysis gates over live metrics, as Flagger and Argo Rollouts name them). Parsed in
 * stages like every manifest (YAML with positions, this zod schema, then the rules below).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CairnError, errnoCode } from '../core/errors.js';
import { parseManifest, type Located } from '../core/manifest.js';
import { parseReference, type OciReference } from '../oci/reference.js';

export const API_VERSION = 'cairn.dev/v1alpha1';
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `30s`, `2m`, `1h`, `500ms` */
export const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 500ms, 30s, 2m or 1h')
  .describe('a duration: 500ms, 30s, 2m, 1h');

const analysisSchema = z
  .strictObject({
    interval: durationSchema.default('10s').describe('how often the gates are measured'),
    minRequests: z
      .number()
      .int()
      .min(0)
      .default(20)
      .describe('requests the candidate must have answered in a step before its gates count'),
    maxErrorRate: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe('highest share of 5xx answers from the candidate, in percent'),
    maxP99Ms: z
      .number()
      .positive()
      .optional()
      .describe('highest p99 latency of the candidate, in milliseconds'),
    prometheus: z
      .strictObject({
        url: z.url().describe('the Prometheus server to query'),
        query: z.string().min(1).describe('PromQL returning one number; {{version}} is replaced'),
        min: z.number().optional(),
        max: z.number().optional(),
      })
      .optional()
      .describe('a PromQL gate, as Flagger runs its metric templates'),
    maxFailedChecks: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('failed measurements tolerated before the rollout fails (Flagger: threshold)'),
  })
  .describe('gates over live metrics');

const stepSchema = z.union([
  z.strictObject({ setWeight: z.number().int().min(0).max(100) }),
  z.strictObject({ pause: z.strictObject({ duration: durationSchema }) }),
  z.strictObject({ analysis: z.strictObject({ duration: durationSchema.optional() }) }),
]);

const rolloutSchema = z
  .strictObject({
    steps: z.array(stepSchema).min(1),
    analysis: analysisSchema.optional(),
    onFailure: z
      .enum(['abort', 'pause'])
      .default('abort')
      .describe('abort: all traffic back to stable; pause: hold the weights for a person'),
  })
  .describe('how a new digest replaces the running one');

const modelSchema = z.strictObject({
  modelkit: z.string().min(1).describe('the ModelKit, as registry/repository@sha256:<digest>'),
  runtime: z.enum(['onnx', 'process']).default('onnx'),
  command: z.string().min(1).optional().describe('process runtime: serves OIP REST on $PORT'),
  threads: z.number().int().positive().max(256).optional(),
  batching: z
    .strictObject({
      maxBatchSize: z.number().int().positive().max(4096),
      maxLatencyMs: z.number().min(0).max(10_000).default(2),
    })
    .optional(),
  sticky: z
    .union([
      z.strictObject({ header: z.string().min(1) }),
      z.strictObject({ cookie: z.string().min(1) }),
    ])
    .optional(),
  shadow: z
    .strictObject({ percent: z.number().min(0).max(100) })
    .optional()
    .describe('during a rollout, mirror this share of requests to the candidate'),
  rollout: rolloutSchema.optional(),
});

export const environmentSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Environment'),
    metadata: z.strictObject({ name: z.string().regex(NAME, 'lower-case letters, digits and -') }),
    spec: z.strictObject({
      allowTags: z
        .boolean()
        .default(false)
        .describe('accept tag-only references and record the digest they resolve to'),
      notify: z
        .strictObject({ webhook: z.url() })
        .optional()
        .describe('receives a JSON event for each rollout start, step, promotion and abort'),
      models: z.record(z.string().regex(MODEL_NAME), modelSchema),
    }),
  })
  .describe('A Cairn environment: what git declares it serves');

export type RawEnvironment = z.output<typeof environmentSchema>;
export type ModelDeclaration = z.output<typeof modelSchema> & {
  readonly name: string;
  readonly reference: OciReference;
};

export interface Environment {
  readonly file: string;
  readonly name: string;
  readonly allowTags: boolean;
  readonly notify?: { readonly webhook: string };
  readonly models: readonly ModelDeclaration[];
}

/** `environments/<name>.yaml` below the repository root. */
export function environmentPath(root: string, name: string): string {
  return path.join(root, 'environments', `${name}.yaml`);
}

export async function readEnvironment(root: string, name: string): Promise<Environment> {
  const file = environmentPath(root, name);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new CairnError('environment-missing', `environments/${name}.yaml: no such file`, {
        hint: `Create it (see docs/deploy.md), or deploy into it with \`cairn deploy ${name} REF\`.`,
      });
    }
    throw error;
  }
  return parseEnvironment(path.join('environments', `${name}.yaml`), text, name);
}

/** Parses and checks one manifest; `expectedName` is the file's stem. */
export function parseEnvironment(file: string, text: string, expectedName: string): Environment {
  const located = parseManifest(file, text, environmentSchema);
  const raw = located.value;
  if (raw.metadata.name !== expectedName) {
    throw located.error(
      ['metadata', 'name'],
      `metadata.name is '${raw.metadata.name}' but the file declares environment '${expectedName}'`,
      `Rename the file or set metadata.name: ${expectedName}.`,
    );
  }
  const models = Object.entries(raw.spec.models).map(([name, m]) =>
    checkModel(located, raw, name, m),
  );
  return {
    file,
    name: raw.metadata.name,
    allowTags: raw.spec.allowTags,
    models,
    ...(raw.spec.notify === undefined ? {} : { notify: raw.spec.notify }),
  };
}

function checkModel(
  located: Located<unknown>,
  raw: RawEnvironment,
  name: string,
  m: z.output<typeof modelSchema>,
): ModelDeclaration {
  const at = (...rest: PropertyKey[]) => ['spec', 'models', name, ...rest];
  let reference: OciReference;
  try {
    reference = parseReference(m.modelkit).ref;
  } catch (error) {
    throw located.error(at('modelkit'), error instanceof Error ? error.message : String(error));
  }
  if (reference.digest === undefined && !raw.spec.allowTags) {
    throw located.error(
      at('modelkit'),
      `model '${name}' names ${m.modelkit} without a digest`,
      'Deploy by digest (`cairn deploy` writes it for you), or set spec.allowTags: true.',
    );
  }
  if (m.runtime === 'process' && m.command === undefined) {
    throw located.error(
      at('runtime'),
      `model '${name}' uses the process runtime but names no command`,
    );
  }
  const steps = m.rollout?.steps ?? [];
  let previous = 0;
  for (const [i, step] of steps.entries()) {
    if ('setWeight' in step) {
      if (step.setWeight < previous) {
        throw located.error(
          at('rollout', 'steps', i, 'setWeight'),
          `setWeight ${String(step.setWeight)} goes down from ${String(previous)}`,
          'Weights only step up; an abort is what moves traffic back.',
        );
      }
      previous = step.setWeight;
    }
    if ('analysis' in step && m.rollout?.analysis === undefined) {
      throw located.error(
        at('rollout', 'steps', i),
        'an analysis step needs rollout.analysis to say what to measure',
      );
    }
  }
  return { ...m, name, reference };
}

/** The JSON Schema editors validate environment files with (docs/environment.schema.json). */
export function environmentJsonSchema(): unknown {
  return z.toJSONSchema(environmentSchema, { io: 'input' });
}
