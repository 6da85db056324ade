/**
 * KServe for one model: an `InferenceService` whose `storageUri` is `kit://REF@DIGEST`, served
 * by a `cairn` ServingRuntime, so KServe's storage initializer fetches the ModelKit and
 * `cairn serve` answers the Open Inference Protocol (v2) from `/mnt/models`.
 */
import {
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  HTTP_PORT,
  probes,
  prometheusAnnotations,
  restrictedSecurityContext,
  serveArgs,
  serverResources,
  metadata,
  type K8sObject,
  type ModelTarget,
} from './k8s-common.js';

/** where KServe's storage initializer puts the model */
export const KSERVE_MODEL_DIR = '/mnt/models';
export const SERVING_RUNTIME = 'cairn';
/**
 * KitOps' prefix for ModelKits: the `kitops` ClusterStorageContainer (or any other that claims
 * `kit://`) runs `kit unpack`. `oci://` would not do: KServe's modelcar expects a runnable
 * image with the files under `/models/`, and a ModelKit's layers are not laid out that way.
 */
export const STORAGE_SCHEME = 'kit://';

/** The model format each runtime is declared as; `cairn-process` is Cairn's own. */
export const modelFormat = (target: ModelTarget): string =>
  target.model.runtime === 'onnx' ? 'onnx' : 'cairn-process';

export function inferenceService(target: ModelTarget, serveConfigHash: string): K8sObject {
  const base = metadata(target, target.name);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      ...base,
      annotations: {
        ...base.annotations,
        'serving.kserve.io/enable-prometheus-scraping': 'true',
      },
    },
    spec: {
      predictor: {
        annotations: { ...prometheusAnnotations(), [CONFIG_HASH_ANNOTATION]: serveConfigHash },
        model: {
          modelFormat: { name: modelFormat(target) },
          runtime: SERVING_RUNTIME,
          protocolVersion: 'v2',
          storageUri: `${STORAGE_SCHEME}${target.modelkit}`,
          args: serveArgs(),
          volumeMounts: [{ name: 'serve-config', mountPath: CONFIG_DIR, readOnly: true }],
          ...probes(HTTP_PORT),
          resources: serverResources(target),
        },
        volumes: [{ name: 'serve-config', configMap: { name: `${target.name}-serve` } }],
      },
    },
  };
}

/** Teaches KServe that `cairn serve` runs ONNX and process models over OIP v2. */
export function servingRuntime(image: string, namespace: string | undefined): K8sObject {
  return {
    apiVersion: 'serving.kserve.io/v1alpha1',
    kind: 'ServingRuntime',
    metadata: {
      name: SERVING_RUNTIME,
      ...(namespace === undefined ? {} : { namespace }),
      labels: { 'app.kubernetes.io/part-of': 'cairn', 'app.kubernetes.io/managed-by': 'cairn' },
    },
    spec: {
      supportedModelFormats: [
        { name: 'onnx', version: '1', autoSelect: false },
        { name: 'cairn-process', autoSelect: false },
      ],
      protocolVersions: ['v2'],
      containers: [
        {
          // KServe merges the InferenceService's model container into the one of this name.
          name: 'kserve-container',
          image,
          // `{{.Name}}` is KServe's placeholder for the InferenceService name.
          args: [
            'serve',
            `{{.Name}}=${KSERVE_MODEL_DIR}`,
            '--host',
            '0.0.0.0',
            '--port',
            String(HTTP_PORT),
          ],
          ports: [{ containerPort: HTTP_PORT, protocol: 'TCP' }],
          resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '2Gi' } },
          securityContext: restrictedSecurityContext(),
        },
      ],
    },
  };
}
