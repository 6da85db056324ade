/**
 * Plain Kubernetes for one model: a ConfigMap with its serve config, a Deployment whose init
 * container runs `cairn unpack REF@DIGEST` into an emptyDir that `cairn serve` then reads, and
 * a Service in front of it.
 */
import {
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  HTTP_PORT,
  MODELKIT_ANNOTATION,
  metadata,
  probes,
  prometheusAnnotations,
  restrictedSecurityContext,
  selector,
  serveArgs,
  serverResources,
  labels,
  type K8sObject,
  type ModelTarget,
} from './k8s-common.js';

/** where the init container unpacks the ModelKit and the server reads it */
export const MODEL_DIR = '/models';
const CREDENTIALS_DIR = '/var/run/cairn/docker';
const CAIRN_HOME = '/var/cache/cairn';

export interface WorkloadOptions {
  readonly image: string;
  /** a `kubernetes.io/dockerconfigjson` Secret; mounted if it exists */
  readonly registrySecret: string;
}

export function configMap(target: ModelTarget, serveConfig: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(target, `${target.name}-serve`),
    data: { 'serve.yaml': serveConfig },
  };
}

export function deployment(
  target: ModelTarget,
  options: WorkloadOptions,
  serveConfigHash: string,
): K8sObject {
  const unpack = {
    name: 'unpack',
    image: options.image,
    args: ['unpack', target.modelkit, '--dir', MODEL_DIR, '--overwrite'],
    env: [
      { name: 'DOCKER_CONFIG', value: CREDENTIALS_DIR },
      { name: 'CAIRN_HOME', value: CAIRN_HOME },
    ],
    volumeMounts: [
      { name: 'model', mountPath: MODEL_DIR },
      { name: 'cairn-home', mountPath: CAIRN_HOME },
      { name: 'registry-credentials', mountPath: CREDENTIALS_DIR, readOnly: true },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
    securityContext: restrictedSecurityContext(),
  };
  const server = {
    name: 'server',
    image: options.image,
    args: serveArgs(),
    ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
    volumeMounts: [
      { name: 'model', mountPath: MODEL_DIR, readOnly: true },
      { name: 'serve-config', mountPath: CONFIG_DIR, readOnly: true },
    ],
    ...probes('http'),
    resources: serverResources(target),
    securityContext: restrictedSecurityContext(),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(target, target.name),
    spec: {
      selector: { matchLabels: selector(target) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels(target),
          annotations: {
            ...prometheusAnnotations(),
            [MODELKIT_ANNOTATION]: target.modelkit,
            [CONFIG_HASH_ANNOTATION]: serveConfigHash,
          },
        },
        spec: {
          // `cairn serve` drains for up to 30 s after SIGTERM.
          terminationGracePeriodSeconds: 45,
          initContainers: [unpack],
          containers: [server],
          volumes: [
            { name: 'model', emptyDir: {} },
            { name: 'cairn-home', emptyDir: {} },
            { name: 'serve-config', configMap: { name: `${target.name}-serve` } },
            {
              name: 'registry-credentials',
              secret: {
                secretName: options.registrySecret,
                optional: true,
                items: [{ key: '.dockerconfigjson', path: 'config.json' }],
              },
            },
          ],
        },
      },
    },
  };
}

export function service(target: ModelTarget): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(target, target.name),
    spec: {
      type: 'ClusterIP',
      selector: selector(target),
      ports: [{ name: 'http', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}
