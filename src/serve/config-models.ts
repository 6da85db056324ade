/**
 * The models of `cairn serve --config`: one served version per config version label (the label
 * is the version id clients see; `x-model-digest` stays the content digest), on ONNX Runtime or
 * a supervised process, wrapped by the micro-batcher when `batching` is set, and the traffic
 * policy each model's unversioned requests follow.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { batching } from './batcher.js';
import type { ModelConfig, ServeConfig } from './config.js';
import type { Logger } from './logger.js';
import type { ServingMetrics } from './metrics.js';
import { createSourceRuntime } from './onnx-runtime.js';
import { startProcessRuntime } from './process-runtime.js';
import { resolveSource, type ModelKitAccess } from './source.js';
import { trafficPolicy, type TrafficConfig, type TrafficPolicy } from './traffic.js';
import type { ModelRuntime, ServedVersion } from './types.js';

export interface ConfigLoadOptions {
  readonly access: ModelKitAccess;
  readonly config: ServeConfig;
  /** ONNX threads when the model sets none */
  readonly threads?: number;
  readonly metrics: ServingMetrics;
  readonly logger?: Logger;
}

/** The traffic settings of a config model, as traffic.ts takes them. */
export function trafficConfigOf(m: ModelConfig): TrafficConfig {
  const sticky = m.sticky;
  return {
    weights: Object.fromEntries(m.traffic),
    pinHeader: m.pinHeader,
    ...(sticky === undefined
      ? {}
      : 'header' in sticky
        ? { stickyHeader: sticky.header }
        : { stickyCookie: sticky.cookie }),
    ...(m.shadow === undefined ? {} : { shadow: m.shadow }),
  };
}

/** The policy of a config model over the versions it declares; throws on a bad one. */
export function policyOf(m: ModelConfig): TrafficPolicy {
  return trafficPolicy(m.name, trafficConfigOf(m), [...m.versions.keys()]);
}

/** A process model's digest: its source file's bytes if it names one, else its command's. */
async function processDigest(m: ModelConfig, source: string): Promise<string> {
  const bytes = await fsp.readFile(source).catch(() => Buffer.from(m.command ?? ''));
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Loads one version of a config model from `source`, served as `label`; without a label (a
 * source loaded through the repository API) the version is the source's own, as for a SOURCE
 * argument.
 */
export async function loadConfigVersion(
  o: ConfigLoadOptions,
  m: ModelConfig,
  label: string | undefined,
  source: string,
): Promise<ServedVersion> {
  const started = performance.now();
  let runtime: ModelRuntime;
  let digest: string;
  let version: string;
  if (m.runtime === 'process') {
    const absolute = path.resolve(o.config.file);
    digest = await processDigest(m, source);
    version = label ?? digest;
    runtime = await startProcessRuntime({
      command: m.command ?? '',
      model: m.name,
      cwd: path.dirname(absolute),
      env: { CAIRN_MODEL_SOURCE: source, CAIRN_MODEL_VERSION: version },
      onEvent: (event) => o.logger?.info({ model: m.name, version, ...event }, event.type),
    }).catch((error: unknown) => {
      throw new CairnError(
        'bad-model',
        `${o.config.file}: model ${m.name} version ${version}: ${error instanceof Error ? error.message : String(error)}`,
        {
          hint: 'The command must serve OIP REST on 127.0.0.1:$PORT, answer /v2/health/ready and describe the model at /v2/models/NAME.',
          cause: error,
        },
      );
    });
  } else {
    const resolved = await resolveSource(o.access, `${m.name}=${source}`);
    ({ runtime, digest } = await createSourceRuntime(resolved, m.threads ?? o.threads));
    version = label ?? resolved.version;
  }
  const labels = { model: m.name, version };
  if (m.batching !== undefined) {
    runtime = batching(runtime, {
      ...m.batching,
      onBatch: (run) => {
        o.metrics.observeBatch(labels, run.rows);
        for (const seconds of run.queueSeconds) o.metrics.observeQueue(labels, seconds);
      },
    });
  }
  o.metrics.observeLoad(labels, (performance.now() - started) / 1000);
  return { model: m.name, version, digest, runtime };
}
