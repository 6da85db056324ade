import { spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { CairnError, ManifestError } from '../core/errors.js';
import { parseServeConfig } from '../serve/config.js';
import { parseEnvironment, readEnvironment } from './environment.js';
import {
  DEFAULT_IMAGE,
  renderKubernetes,
  renderedStream,
  writeRendered,
  type RenderedFile,
} from './render-k8s.js';

const CHURN = `sha256:${'a'.repeat(64)}`;
const RANKER = `sha256:${'b'.repeat(64)}`;
const PROD = `apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata:
  name: prod
spec:
  models:
    churn:
      modelkit: registry.example.com/acme/churn@${CHURN}
      threads: 2
      batching: {maxBatchSize: 32, maxLatencyMs: 5}
      rollout:
        steps: [{setWeight: 20}, {pause: {duration: 1m}}]
    Ranker_v2:
      modelkit: registry.example.com/acme/ranker@${RANKER}
      runtime: process
      command: python serve.py --port $PORT
`;
const env = parseEnvironment('environments/prod.yaml', PROD, 'prod');

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string } };

/** Every document of every rendered file, as plain objects. */
function objects(files: readonly RenderedFile[]): Obj[] {
  return files.flatMap((f) =>
    parseAllDocuments(f.text).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as Obj;
    }),
  );
}

function find(all: readonly Obj[], kind: string, name: string): Obj {
  const found = all.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind}/${name} rendered`);
  return found;
}

// The InferenceService and ServingRuntime are CRDs kubernetes-models does not ship: a focused
// check of the fields KServe needs for them (serving.kserve.io v1beta1 / v1alpha1).
const inferenceServiceSchema = z.object({
  apiVersion: z.literal('serving.kserve.io/v1beta1'),
  kind: z.literal('InferenceService'),
  metadata: z.object({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(63),
  }),
  spec: z.strictObject({
    predictor: z.strictObject({
      annotations: z.record(z.string(), z.string()),
      model: z.object({
        modelFormat: z.strictObject({ name: z.string(), version: z.string().optional() }),
        runtime: z.string(),
        protocolVersion: z.enum(['v1', 'v2', 'grpc-v2']),
        storageUri: z.string().regex(/^kit:\/\/[^@]+@sha256:[0-9a-f]{64}$/),
        args: z.array(z.string()),
      }),
      volumes: z.array(z.object({ name: z.string() })),
    }),
  }),
});
const servingRuntimeSchema = z.object({
  apiVersion: z.literal('serving.kserve.io/v1alpha1'),
  kind: z.literal('ServingRuntime'),
  spec: z.object({
    supportedModelFormats: z.array(
      z.strictObject({ name: z.string(), version: z.string().optional(), autoSelect: z.boolean() }),
    ),
    protocolVersions: z.array(z.enum(['v1', 'v2', 'grpc-v2'])),
    containers: z
      .array(z.object({ name: z.literal('kserve-container'), image: z.string() }))
      .length(1),
  }),
});

describe('render k8s: Deployments', () => {
  const files = renderKubernetes(env, { namespace: 'ml-prod' });
  const all = objects(files);

  test('one file per model and a kustomization listing them, sorted', () => {
    expect(files.map((f) => f.path)).toEqual([
      'churn.yaml',
      'kustomization.yaml',
      'ranker-v2.yaml',
    ]);
    const kustomization = find(
      all.map((o) => ({ ...o, metadata: { name: 'k' } })),
      'Kustomization',
      'k',
    );
    expect(kustomization.resources).toEqual(['churn.yaml', 'ranker-v2.yaml']);
    for (const f of files)
      expect(f.text).toMatch(/^# Rendered by `cairn render k8s` from environments\/prod\.yaml/);
  });

  test('every Deployment, Service and ConfigMap passes the Kubernetes schema', () => {
    const validated = all.filter((o) => o.kind !== 'Kustomization');
    for (const o of validated) {
      const model =
        o.kind === 'Deployment'
          ? new Deployment(o)
          : o.kind === 'Service'
            ? new Service(o)
            : new ConfigMap(o);
      expect(() => {
        model.validate();
      }).not.toThrow();
    }
    expect(validated.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/churn-serve',
      'ConfigMap/ranker-v2-serve',
      'Deployment/churn',
      'Deployment/ranker-v2',
      'Service/churn',
      'Service/ranker-v2',
    ]);
  });

  test('the init container unpacks the pinned digest into the volume the server reads', () => {
    const d = new Deployment(find(all, 'Deployment', 'churn'));
    const pod = d.spec?.template.spec;
    const init = pod?.initContainers?.[0];
    expect(init?.image).toBe(DEFAULT_IMAGE);
    expect(init?.args).toEqual([
      'unpack',
      `registry.example.com/acme/churn@${CHURN}`,
      '--dir',
      '/models',
      '--overwrite',
    ]);
    const server = pod?.containers[0];
    expect(server?.args).toEqual([
      'serve',
      '--config',
      '/etc/cairn/serve.yaml',
      '--host',
      '0.0.0.0',
      '--port',
      '8080',
    ]);
    expect(init?.volumeMounts?.find((m) => m.mountPath === '/models')?.name).toBe('model');
    expect(server?.volumeMounts?.find((m) => m.mountPath === '/models')?.name).toBe('model');
    expect(pod?.volumes?.find((v) => v.name === 'model')?.emptyDir).toEqual({});
    const credentials = pod?.volumes?.find((v) => v.name === 'registry-credentials')?.secret;
    expect(credentials).toMatchObject({ secretName: 'cairn-registry', optional: true });
    expect(init?.env).toContainEqual({ name: 'DOCKER_CONFIG', value: '/var/run/cairn/docker' });
    expect(server?.resources?.requests?.cpu).toBe('2');
  });

  test('probes on the OIP health routes, Prometheus annotations, labels and the digest', () => {
    const d = new Deployment(find(all, 'Deployment', 'ranker-v2'));
    const server = d.spec?.template.spec?.containers[0];
    expect(server?.readinessProbe?.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(server?.livenessProbe?.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    const annotations = d.spec?.template.metadata?.annotations ?? {};
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
      'cairn.dev/modelkit': `registry.example.com/acme/ranker@${RANKER}`,
    });
    expect(d.metadata?.namespace).toBe('ml-prod');
    expect(d.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'ranker-v2',
      'app.kubernetes.io/part-of': 'cairn',
      'cairn.dev/environment': 'prod',
      'cairn.dev/model': 'Ranker_v2',
    });
    const svc = new Service(find(all, 'Service', 'ranker-v2'));
    expect(svc.spec?.selector).toEqual(d.spec?.selector.matchLabels);
    expect(svc.spec?.ports?.[0]).toMatchObject({ name: 'http', port: 8080, targetPort: 'http' });
  });

  test('the serve config carries runtime, threads and batching, and parses as cairn serve reads it', () => {
    const churn = find(all, 'ConfigMap', 'churn-serve').data as Record<string, string>;
    const config = parseServeConfig('serve.yaml', churn['serve.yaml'] ?? '', '/');
    expect(config.models[0]).toMatchObject({
      name: 'churn',
      runtime: 'onnx',
      threads: 2,
      batching: { maxBatchSize: 32, maxLatencyMs: 5 },
    });
    expect([...(config.models[0]?.versions.entries() ?? [])]).toEqual([
      ['aaaaaaaaaaaa', '/models'],
    ]);
    const ranker = find(all, 'ConfigMap', 'ranker-v2-serve').data as Record<string, string>;
    expect(parseServeConfig('serve.yaml', ranker['serve.yaml'] ?? '', '/').models[0]).toMatchObject(
      {
        name: 'Ranker_v2',
        runtime: 'process',
        command: 'python serve.py --port $PORT',
      },
    );
  });

  test('as one stream for kubectl, the same objects without the kustomization', () => {
    const stream = objects([{ path: 'all.yaml', text: renderedStream(files) }]);
    expect(stream).toEqual(all.filter((o) => o.kind !== 'Kustomization'));
  });

  test('the schema check has teeth: a port given as text fails it', () => {
    const text = files.find((f) => f.path === 'churn.yaml')?.text ?? '';
    const broken = objects([{ path: 'x', text: text.replace('port: 8080', "port: '8080'") }]);
    expect(() => {
      new Service(find(broken, 'Service', 'churn')).validate();
    }).toThrow(/port must be integer/);
  });

  test('rendering is deterministic, and a new digest changes the pod template', () => {
    expect(renderKubernetes(env, { namespace: 'ml-prod' })).toEqual(files);
    const moved = parseEnvironment(
      'environments/prod.yaml',
      PROD.replace(CHURN, `sha256:${'c'.repeat(64)}`),
      'prod',
    );
    const before = new Deployment(find(all, 'Deployment', 'churn'));
    const after = new Deployment(find(objects(renderKubernetes(moved)), 'Deployment', 'churn'));
    expect(after.spec?.template.metadata?.annotations?.['cairn.dev/serve-config-sha256']).not.toBe(
      before.spec?.template.metadata?.annotations?.['cairn.dev/serve-config-sha256'],
    );
    expect(after.spec?.selector).toEqual(before.spec?.selector);
  });
});

describe('render k8s: KServe', () => {
  const files = renderKubernetes(env, { kserve: true, image: 'registry.example.com/cairn:dev' });
  const all = objects(files);

  test('an InferenceService per model with the ModelKit as kit:// storage, and one ServingRuntime', () => {
    expect(files.map((f) => f.path)).toEqual([
      'churn.yaml',
      'kustomization.yaml',
      'ranker-v2.yaml',
      'serving-runtime.yaml',
    ]);
    expect(all.some((o) => o.kind === 'Deployment')).toBe(false);
    const churn = inferenceServiceSchema.parse(find(all, 'InferenceService', 'churn'));
    expect(churn.spec.predictor.model).toMatchObject({
      modelFormat: { name: 'onnx' },
      runtime: 'cairn',
      protocolVersion: 'v2',
      storageUri: `kit://registry.example.com/acme/churn@${CHURN}`,
    });
    expect(churn.spec.predictor.annotations['prometheus.io/scrape']).toBe('true');
    // KServe's container port has no name, so the probes name the number.
    expect(find(all, 'InferenceService', 'churn')).toMatchObject({
      spec: {
        predictor: {
          model: {
            readinessProbe: { httpGet: { path: '/v2/health/ready', port: 8080 } },
            livenessProbe: { httpGet: { path: '/v2/health/live', port: 8080 } },
          },
        },
      },
    });
    const ranker = inferenceServiceSchema.parse(find(all, 'InferenceService', 'ranker-v2'));
    expect(ranker.spec.predictor.model.modelFormat.name).toBe('cairn-process');
    const runtime = servingRuntimeSchema.parse(find(all, 'ServingRuntime', 'cairn'));
    expect(runtime.spec.containers[0]?.image).toBe('registry.example.com/cairn:dev');
    const formats = runtime.spec.supportedModelFormats.map((f) => f.name);
    expect(formats).toEqual(expect.arrayContaining(['onnx', 'cairn-process']));
    const config = find(all, 'ConfigMap', 'churn-serve').data as Record<string, string>;
    const parsed = parseServeConfig('serve.yaml', config['serve.yaml'] ?? '', '/');
    expect([...(parsed.models[0]?.versions.values() ?? [])]).toEqual(['/mnt/models']);
    expect(() => {
      new ConfigMap(find(all, 'ConfigMap', 'churn-serve')).validate();
    }).not.toThrow();
  });
});

describe('render k8s: refusals', () => {
  test('a tag-only reference is refused: Kubernetes would never see the tag move', () => {
    const tagged = parseEnvironment(
      'environments/dev.yaml',
      'apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n  allowTags: true\n  models:\n    churn: {modelkit: "registry.example.com/acme/churn:latest"}\n',
      'dev',
    );
    expect(() => renderKubernetes(tagged)).toThrow(
      expect.objectContaining({ code: 'render-needs-digest' }) as CairnError,
    );
  });

  test('two models that would share a Kubernetes name are refused', () => {
    const clash = parseEnvironment(
      'environments/dev.yaml',
      `apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n  models:\n    a.b: {modelkit: "r.io/x@${CHURN}"}\n    a_b: {modelkit: "r.io/y@${CHURN}"}\n`,
      'dev',
    );
    expect(() => renderKubernetes(clash)).toThrow(/both become the Kubernetes name 'a-b'/);
  });

  test('a model whose file would overwrite the kustomization is refused', () => {
    const clash = parseEnvironment(
      'environments/dev.yaml',
      `apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n  models:\n    Kustomization: {modelkit: "r.io/x@${CHURN}"}\n`,
      'dev',
    );
    expect(() => renderKubernetes(clash)).toThrow(/kustomization\.yaml, which the render needs/);
  });
});

describe('render k8s: files', () => {
  let root: string;
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-render-'));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  test('an environment file with an error stops before anything is rendered', async () => {
    await fsp.mkdir(path.join(root, 'environments'));
    await fsp.writeFile(
      path.join(root, 'environments', 'prod.yaml'),
      PROD.replace('threads: 2', 'threads: many'),
    );
    const error = await readEnvironment(root, 'prod').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toMatch(/^environments\/prod\.yaml:9:\d+: /);
  });

  test('writing replaces the folder whole: a removed model leaves no file behind', async () => {
    const out = path.join(root, 'deploy', 'prod');
    await writeRendered(out, renderKubernetes(env));
    expect((await fsp.readdir(out)).sort()).toEqual([
      'churn.yaml',
      'kustomization.yaml',
      'ranker-v2.yaml',
    ]);
    const onlyChurn = { ...env, models: env.models.filter((m) => m.name === 'churn') };
    await writeRendered(out, renderKubernetes(onlyChurn));
    expect((await fsp.readdir(out)).sort()).toEqual(['churn.yaml', 'kustomization.yaml']);
    expect(await fsp.readdir(path.join(root, 'deploy'))).toEqual(['prod']);
  });

  // kustomize is what Flux and Argo CD run on the folder; kubectl embeds it.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  test.skipIf(!kubectl)(
    'kubectl kustomize builds the written folder into every object',
    async () => {
      const out = path.join(root, 'prod');
      await writeRendered(out, renderKubernetes(env, { kserve: true }));
      const built = spawnSync('kubectl', ['kustomize', out], { encoding: 'utf8' });
      expect(built.stderr).toBe('');
      expect(built.status).toBe(0);
      const kinds = objects([{ path: 'built.yaml', text: built.stdout }]).map(
        (o) => `${o.kind}/${o.metadata.name}`,
      );
      expect(kinds.sort()).toEqual([
        'ConfigMap/churn-serve',
        'ConfigMap/ranker-v2-serve',
        'InferenceService/churn',
        'InferenceService/ranker-v2',
        'ServingRuntime/cairn',
      ]);
    },
  );

  test('leftovers of a killed render are cleared; those of a live one are left alone', async () => {
    const gone = spawnSync('true').pid;
    const stale = path.join(root, `.prod.${String(gone)}.0badc0de.old`);
    const live = path.join(root, `.prod.${String(process.pid)}.0badc0de.tmp`);
    await fsp.mkdir(stale);
    await fsp.mkdir(live);
    await writeRendered(path.join(root, 'prod'), renderKubernetes(env));
    expect((await fsp.readdir(root)).sort()).toEqual([path.basename(live), 'prod']);
  });

  test('a folder holding files of its own is not replaced', async () => {
    const out = path.join(root, 'deploy');
    await fsp.mkdir(out);
    await fsp.writeFile(path.join(out, 'notes.md'), 'mine');
    const error = await writeRendered(out, renderKubernetes(env)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'render-target-invalid' });
    expect(await fsp.readdir(out)).toEqual(['notes.md']);
  });
});
