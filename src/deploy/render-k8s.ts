/**
 * `cairn render k8s ENV`: the same environment as Kubernetes manifests, one file per model plus
 * a `kustomization.yaml`, for Flux or Argo CD to apply. Rendering is a pure function of the
 * environment and the options; writing replaces the whole folder at once.
 */
import { CAIRN_VERSION } from '../core/version.js';
import { yamlLib } from '../core/yaml-lib.js';
import type { Environment } from './environment.js';
import {
  modelTargets,
  serveConfigText,
  sha256Hex,
  type K8sObject,
  type ModelTarget,
} from './k8s-common.js';
import { KSERVE_MODEL_DIR, inferenceService, servingRuntime } from './k8s-kserve.js';
import { MODEL_DIR, configMap, deployment, service } from './k8s-workload.js';
import { HEADER, type RenderedFile } from './render-folder.js';

export { writeRendered, type RenderedFile } from './render-folder.js';

export const DEFAULT_IMAGE = `ghcr.io/cairn-dev/cairn:${CAIRN_VERSION}`;
export const DEFAULT_REGISTRY_SECRET = 'cairn-registry';

export interface RenderOptions {
  /** the Cairn image for the init and server containers (default {@link DEFAULT_IMAGE}) */
  readonly image?: string | undefined;
  /** InferenceServices and a ServingRuntime instead of Deployments and Services */
  readonly kserve?: boolean | undefined;
  /** written into every object; absent, the applier's target namespace decides */
  readonly namespace?: string | undefined;
  /** the dockerconfigjson Secret the init container logs in with, if it exists */
  readonly registrySecret?: string | undefined;
}

/**
 * Renders `env` as Kubernetes objects: per model `<name>.yaml` with a ConfigMap (its serve
 * config) and either a Deployment and a Service or, with `kserve`, an InferenceService; with
 * `kserve` also `serving-runtime.yaml`; and `kustomization.yaml` listing the files. Sorted by
 * path; equal inputs give byte-equal output.
 */
export function renderKubernetes(env: Environment, options: RenderOptions = {}): RenderedFile[] {
  const image = options.image ?? DEFAULT_IMAGE;
  const kserve = options.kserve === true;
  const targets = modelTargets(env.name, env.file, env.models, options.namespace);
  const files: RenderedFile[] = targets.map((target) => ({
    path: `${target.name}.yaml`,
    text: documents(env, modelObjects(target, image, kserve, options)),
  }));
  if (kserve) {
    files.push({
      path: 'serving-runtime.yaml',
      text: documents(env, [servingRuntime(image, options.namespace)]),
    });
  }
  const byPath = (a: RenderedFile, b: RenderedFile) => (a.path < b.path ? -1 : 1);
  files.sort(byPath);
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: files.map((f) => f.path),
  };
  files.push({ path: 'kustomization.yaml', text: documents(env, [kustomization]) });
  return files.sort(byPath);
}

function modelObjects(
  target: ModelTarget,
  image: string,
  kserve: boolean,
  options: RenderOptions,
): K8sObject[] {
  const config = serveConfigText(target, kserve ? KSERVE_MODEL_DIR : MODEL_DIR);
  const hash = sha256Hex(config);
  if (kserve) return [configMap(target, config), inferenceService(target, hash)];
  const registrySecret = options.registrySecret ?? DEFAULT_REGISTRY_SECRET;
  return [
    configMap(target, config),
    deployment(target, { image, registrySecret }, hash),
    service(target),
  ];
}

function documents(env: Environment, objects: readonly object[]): string {
  const yaml = yamlLib();
  const body = objects
    .map((o) => yaml.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
  return `${HEADER} from ${env.file}; edit that file, not this one.\n${body}`;
}

/**
 * All rendered objects as one YAML stream (for `kubectl apply -f -`): every file but the
 * kustomization, whose only job is to list the others.
 */
export function renderedStream(files: readonly RenderedFile[]): string {
  return files
    .filter((f) => f.path !== 'kustomization.yaml')
    .map((f) => f.text.replace(/^# Rendered by .*\n/, ''))
    .join('---\n');
}
