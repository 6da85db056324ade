/**
 * `cairn serve --config serve.yaml`: several models, each with several versions, runtime
 * options, batching and traffic. Parsed in stages (YAML with positions, a zod schema, then the
 * rules below), every error at `file:line:col`; the result is normalised and self-consistent.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CairnError, errnoCode } from '../core/errors.js';
import { parseManifest, type Located } from '../core/manifest.js';
import { absoluteSource, NAME_PATTERN } from './source.js';

const positiveInt = z.number().int().positive();
const percent = z.number().min(0).max(100);

const batchingSchema = z.strictObject({
  maxBatchSize: positiveInt.max(4096),
  maxLatencyMs: z.number().min(0).max(10_000).default(2),
});

const versionSchema = z.union([z.string().min(1), z.strictObject({ source: z.string().min(1) })]);

const modelSchema = z.strictObject({
  runtime: z.enum(['onnx', 'process']).default('onnx'),
  /** process runtime: a shell command that serves OIP REST on $PORT */
  command: z.string().min(1).optional(),
  /** onnx runtime: intra-op threads of each session */
  threads: positiveInt.max(256).optional(),
  batching: batchingSchema.optional(),
  versions: z.record(z.string().regex(NAME_PATTERN), versionSchema),
  traffic: z.record(z.string(), percent).optional(),
  sticky: z
    .union([
      z.strictObject({ header: z.string().min(1) }),
      z.strictObject({ cookie: z.string().min(1) }),
    ])
    .optional(),
  pinHeader: z.string().min(1).default('x-model-version'),
  shadow: z.strictObject({ version: z.string(), percent: percent.default(100) }).optional(),
  log: z
    .strictObject({
      sample: z.number().min(0).max(1),
      maxBytes: positiveInt.default(64 * 1024 * 1024),
      keep: positiveInt.max(100).default(3),
    })
    .optional(),
});

const configSchema = z.strictObject({
  apiVersion: z.literal('cairn.dev/v1alpha1').optional(),
  kind: z.literal('ServeConfig').optional(),
  models: z.record(z.string().regex(NAME_PATTERN), modelSchema),
});

export interface BatchingOptions {
  readonly maxBatchSize: number;
  /** ms the first request of a batch may wait for others */
  readonly maxLatencyMs: number;
}

export interface ModelConfig {
  readonly name: string;
  readonly runtime: 'onnx' | 'process';
  readonly command?: string;
  readonly threads?: number;
  readonly batching?: BatchingOptions;
  /** version label → source (absolute path or ModelKit reference), in file order */
  readonly versions: ReadonlyMap<string, string>;
  /** version label → percent; sums to 100; absent: the last version takes everything */
  readonly traffic: ReadonlyMap<string, number>;
  readonly sticky?: { readonly header: string } | { readonly cookie: string };
  readonly pinHeader: string;
  readonly shadow?: { readonly version: string; readonly percent: number };
  readonly log?: { readonly sample: number; readonly maxBytes: number; readonly keep: number };
}

export interface ServeConfig {
  readonly file: string;
  readonly models: readonly ModelConfig[];
}

/** Reads and checks a serve config; relative sources resolve against the file's folder. */
export async function readServeConfig(file: string, cwd: string): Promise<ServeConfig> {
  const absolute = path.resolve(cwd, file);
  let text: string;
  try {
    text = await fsp.readFile(absolute, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new CairnError('serve-config-missing', `${file}: no such file`, {
        hint: 'Pass the path of a serve.yaml with --config (see docs/serving.md).',
      });
    }
    throw error;
  }
  return parseServeConfig(file, text, path.dirname(absolute));
}

export function parseServeConfig(file: string, text: string, baseDir: string): ServeConfig {
  const located = parseManifest(file, text, configSchema);
  const models = Object.entries(located.value.models).map(([name, raw]) =>
    resolveModel(located, name, raw, baseDir),
  );
  if (models.length === 0) {
    throw located.error(['models'], 'declares no model', 'Add at least one model under models:.');
  }
  return { file, models };
}

type RawModel = z.output<typeof modelSchema>;

function resolveModel(
  located: Located<unknown>,
  name: string,
  raw: RawModel,
  baseDir: string,
): ModelConfig {
  const at = (...rest: PropertyKey[]) => ['models', name, ...rest];
  const versions = new Map<string, string>();
  for (const [label, v] of Object.entries(raw.versions)) {
    versions.set(label, absoluteSource(typeof v === 'string' ? v : v.source, baseDir));
  }
  if (versions.size === 0) {
    throw located.error(at('versions'), `model '${name}' declares no version`);
  }
  if (raw.runtime === 'process' && raw.command === undefined) {
    throw located.error(
      at('runtime'),
      `model '${name}' uses the process runtime but names no command`,
      'Add command: the shell command that serves OIP REST on $PORT.',
    );
  }
  const traffic = new Map<string, number>();
  if (raw.traffic === undefined) {
    traffic.set([...versions.keys()].at(-1) ?? '', 100);
  } else {
    for (const [label, weight] of Object.entries(raw.traffic)) {
      if (!versions.has(label)) {
        throw located.error(
          at('traffic', label),
          `traffic names version '${label}', which model '${name}' does not declare`,
          `Declared versions: ${[...versions.keys()].join(', ')}.`,
          true,
        );
      }
      if (weight > 0) traffic.set(label, weight);
    }
    const sum = [...traffic.values()].reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 100) > 1e-9) {
      throw located.error(at('traffic'), `traffic weights add up to ${String(sum)}, not 100`);
    }
  }
  if (raw.shadow !== undefined && !versions.has(raw.shadow.version)) {
    throw located.error(
      at('shadow', 'version'),
      `shadow names version '${raw.shadow.version}', which model '${name}' does not declare`,
    );
  }
  return {
    name,
    runtime: raw.runtime,
    versions,
    traffic,
    pinHeader: raw.pinHeader.toLowerCase(),
    ...(raw.command === undefined ? {} : { command: raw.command }),
    ...(raw.threads === undefined ? {} : { threads: raw.threads }),
    ...(raw.batching === undefined ? {} : { batching: raw.batching }),
    ...(raw.sticky === undefined ? {} : { sticky: lowerHeader(raw.sticky) }),
    ...(raw.shadow === undefined ? {} : { shadow: raw.shadow }),
    ...(raw.log === undefined ? {} : { log: raw.log }),
  };
}

function lowerHeader(
  sticky: { header: string } | { cookie: string },
): { header: string } | { cookie: string } {
  return 'header' in sticky ? { header: sticky.header.toLowerCase() } : sticky;
}
