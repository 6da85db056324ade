/**
 * What every rendered Kubernetes object of one model shares: its name, labels, the serve
 * config its container reads, probes on the OIP health routes and default resources.
 */
import { createHash } from 'node:crypto';
import { CairnError } from '../core/errors.js';
import { yamlLib } from '../core/yaml-lib.js';
import type { Sha256Digest } from '../oci/digest.js';
import { formatReference } from '../oci/reference.js';
import type { ModelDeclaration } from './environment.js';

/** A Kubernetes object as plain data, keys in the order they are written. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export const HTTP_PORT = 8080;
/** where the serve config is mounted, read-only */
export const CONFIG_DIR = '/etc/cairn';
export const CONFIG_FILE = `${CONFIG_DIR}/serve.yaml`;
export const MODELKIT_ANNOTATION = 'cairn.dev/modelkit';
export const CONFIG_HASH_ANNOTATION = 'cairn.dev/serve-config-sha256';

/** One model of the environment, with everything its objects are built from. */
export interface ModelTarget {
  readonly model: ModelDeclaration;
  readonly environment: string;
  /** DNS-1123 label: the Deployment, Service and InferenceService name */
  readonly name: string;
  /** `registry/repository@sha256:…`, the one thing the init container unpacks */
  readonly modelkit: string;
  readonly digest: Sha256Digest;
  readonly namespace: string | undefined;
}

/** A model name as a DNS-1123 label: lower case, `.` and `_` become `-`. */
export function objectName(model: string): string {
  return model.toLowerCase().replace(/[._]/g, '-');
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** file stems the render uses for itself */
const RESERVED = new Set(['kustomization', 'serving-runtime']);

/** Resolves each model's name and pinned reference; refuses what Kubernetes could not hold. */
export function modelTargets(
  environment: string,
  file: string,
  models: readonly ModelDeclaration[],
  namespace: string | undefined,
): ModelTarget[] {
  const seen = new Map<string, string>();
  return models.map((model) => {
    const name = objectName(model.name);
    if (!LABEL.test(name) || name.length > 63) {
      throw new CairnError(
        'render-invalid-name',
        `${file}: model '${model.name}' gives the Kubernetes name '${name}', which is not a DNS label`,
        {
          hint: 'Use at most 63 letters, digits and -, starting and ending with a letter or digit.',
        },
      );
    }
    if (RESERVED.has(name)) {
      throw new CairnError(
        'render-invalid-name',
        `${file}: model '${model.name}' would be written as ${name}.yaml, which the render needs for itself`,
        { hint: `Rename the model: ${[...RESERVED].join(' and ')} are taken.` },
      );
    }
    const other = seen.get(name);
    if (other !== undefined) {
      throw new CairnError(
        'render-invalid-name',
        `${file}: models '${other}' and '${model.name}' both become the Kubernetes name '${name}'`,
        { hint: 'Rename one of them: Kubernetes names are lower case, with - for . and _.' },
      );
    }
    seen.set(name, model.name);
    const digest = model.reference.digest;
    if (digest === undefined) {
      throw new CairnError(
        'render-needs-digest',
        `${file}: model '${model.name}' names ${model.modelkit} without a digest`,
        {
          hint: 'Kubernetes would never notice a moved tag: pin the digest (`cairn deploy` writes it).',
        },
      );
    }
    const modelkit = formatReference(model.reference);
    return { model, environment, name, modelkit, digest, namespace };
  });
}

export function labels(target: ModelTarget): Record<string, string> {
  return {
    'app.kubernetes.io/name': target.name,
    'app.kubernetes.io/instance': `${target.environment}-${target.name}`,
    'app.kubernetes.io/component': 'model-server',
    'app.kubernetes.io/part-of': 'cairn',
    'app.kubernetes.io/managed-by': 'cairn',
    'cairn.dev/environment': target.environment,
    'cairn.dev/model': target.model.name,
  };
}

/** The labels a Service and a Deployment select on: never the digest, which changes. */
export function selector(target: ModelTarget): Record<string, string> {
  return {
    'app.kubernetes.io/name': target.name,
    'cairn.dev/environment': target.environment,
  };
}

export function metadata(target: ModelTarget, name: string): K8sObject['metadata'] {
  return {
    name,
    ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
    labels: labels(target),
    annotations: { [MODELKIT_ANNOTATION]: target.modelkit },
  };
}

export const prometheusAnnotations = (): Record<string, string> => ({
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(HTTP_PORT),
  'prometheus.io/path': '/metrics',
});

/**
 * The `cairn serve --config` file for one model served from `modelDir`: the runtime options
 * the environment declares. The version label is the digest's first 12 hex digits.
 */
export function serveConfigText(target: ModelTarget, modelDir: string): string {
  const { model } = target;
  const label = target.digest.replace(/^sha256:/, '').slice(0, 12);
  const config = {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'ServeConfig',
    models: {
      [model.name]: {
        runtime: model.runtime,
        ...(model.command === undefined ? {} : { command: model.command }),
        ...(model.threads === undefined ? {} : { threads: model.threads }),
        ...(model.batching === undefined ? {} : { batching: model.batching }),
        versions: { [label]: modelDir },
      },
    },
  };
  return yamlLib().stringify(config, { lineWidth: 0 });
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** `cairn serve` on all interfaces, reading the mounted serve config. */
export const serveArgs = (): string[] => [
  'serve',
  '--config',
  CONFIG_FILE,
  '--host',
  '0.0.0.0',
  '--port',
  String(HTTP_PORT),
];

/**
 * Readiness on `/v2/health/ready`, liveness on `/v2/health/live`, and time to load a model;
 * `port` is the container port's name, or its number where the port has no name (KServe).
 */
export function probes(port: string | number): Record<string, unknown> {
  const get = (path: string) => ({ httpGet: { path, port } });
  return {
    startupProbe: { ...get('/v2/health/live'), periodSeconds: 5, failureThreshold: 60 },
    readinessProbe: { ...get('/v2/health/ready'), periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...get('/v2/health/live'), periodSeconds: 10, failureThreshold: 3 },
  };
}

/** A CPU per ONNX Runtime thread when the environment says how many, else a quarter. */
export function serverResources(target: ModelTarget): Record<string, unknown> {
  const cpu = target.model.threads === undefined ? '250m' : String(target.model.threads);
  return { requests: { cpu, memory: '512Mi' }, limits: { memory: '2Gi' } };
}

export const restrictedSecurityContext = (): Record<string, unknown> => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
});
