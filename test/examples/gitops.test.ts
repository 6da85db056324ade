// examples/gitops is what a user copies: every file parses and says what the README says it does.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readEnvironment } from '../../src/deploy/environment.js';
import { renderKubernetes } from '../../src/deploy/render-k8s.js';

const ROOT = path.resolve(import.meta.dirname, '../../examples/gitops');

type Doc = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
};

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

function docs(file: string): Doc[] {
  return parseAllDocuments(fs.readFileSync(path.join(ROOT, file), 'utf8')).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as Doc;
  });
}

describe('examples/gitops', () => {
  test('holds the files the README describes, and each parses as YAML', () => {
    expect(yamlFiles(ROOT)).toEqual([
      '.github/workflows/render.yaml',
      'argocd/application.yaml',
      'environments/prod.yaml',
      'flux/kustomization.yaml',
      'kserve/cluster-storage-container.yaml',
    ]);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const file of yamlFiles(ROOT)) expect(readme).toContain(file);
  });

  test('the environment is valid, and renders to manifests that pass the Kubernetes schema', async () => {
    const env = await readEnvironment(ROOT, 'prod');
    expect(env.models.map((m) => [m.name, m.runtime])).toEqual([
      ['churn', 'onnx'],
      ['ranker', 'process'],
    ]);
    const rendered = renderKubernetes(env).flatMap((f) =>
      parseAllDocuments(f.text).map(
        (d) => d.toJS() as Record<string, unknown> & { kind: string; metadata: { name: string } },
      ),
    );
    const deployments = rendered.filter((o) => o.kind === 'Deployment');
    const services = rendered.filter((o) => o.kind === 'Service');
    expect(deployments).toHaveLength(2);
    expect(services).toHaveLength(2);
    for (const o of deployments) {
      expect(() => {
        new Deployment(o).validate();
      }).not.toThrow();
    }
    for (const o of services) {
      expect(() => {
        new Service(o).validate();
      }).not.toThrow();
    }
  });

  test('Argo CD syncs the rendered folder automatically, with prune and selfHeal', () => {
    const [app, ...rest] = docs('argocd/application.yaml');
    expect(rest).toEqual([]);
    expect(app).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      spec: {
        source: { path: 'deploy/prod', targetRevision: 'main' },
        destination: { namespace: 'ml-prod' },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    });
  });

  test('Flux applies the same folder from a GitRepository it polls', () => {
    const [source, kustomization, ...rest] = docs('flux/kustomization.yaml');
    expect(rest).toEqual([]);
    expect(source).toMatchObject({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      spec: { interval: '1m', ref: { branch: 'main' } },
    });
    expect(kustomization).toMatchObject({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      spec: {
        path: './deploy/prod',
        prune: true,
        targetNamespace: 'ml-prod',
        sourceRef: { kind: 'GitRepository', name: source?.metadata.name },
      },
    });
    // kustomize-controller requires both.
    expect(typeof kustomization?.spec.interval).toBe('string');
    expect(typeof kustomization?.spec.prune).toBe('boolean');
  });

  test('the CI workflow renders on every push to main that touches an environment, and commits', () => {
    const [workflow] = docs('.github/workflows/render.yaml');
    const on = (workflow as unknown as { on: { push: { branches: string[]; paths: string[] } } })
      .on;
    expect(on.push.branches).toEqual(['main']);
    expect(on.push.paths).toEqual(['environments/**']);
    const jobs = (workflow as unknown as { jobs: Record<string, { steps: { run?: string }[] }> })
      .jobs;
    const runs = Object.values(jobs)
      .flatMap((j) => j.steps)
      .map((s) => s.run ?? '')
      .join('\n');
    expect(runs).toContain('cairn render k8s prod -o deploy/prod');
    expect(runs).toContain('git commit');
    expect(runs).toContain('git push');
  });

  test('the kit:// storage container hands KServe URI and folder to cairn unpack', () => {
    const [csc] = docs('kserve/cluster-storage-container.yaml');
    expect(csc).toMatchObject({
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'ClusterStorageContainer',
      spec: {
        container: { name: 'storage-initializer' },
        supportedUriFormats: [{ prefix: 'kit://' }],
      },
    });
    // Run the container's command as KServe would (URI, then folder), with a `cairn` that
    // prints the arguments it was given.
    const command = (csc?.spec.container as { command: string[] }).command;
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-csc-'));
    try {
      fs.writeFileSync(path.join(bin, 'cairn'), '#!/bin/sh\nprintf "%s\\n" "$@"\n', {
        mode: 0o755,
      });
      const uri = `kit://ghcr.io/acme/churn@sha256:${'d'.repeat(64)}`;
      const [exe = '', ...args] = command;
      const run = spawnSync(exe, [...args, uri, '/mnt/models'], {
        env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      expect(run.stdout.split('\n')).toEqual([
        'unpack',
        `ghcr.io/acme/churn@sha256:${'d'.repeat(64)}`,
        '--dir',
        '/mnt/models',
        '--overwrite',
        '',
      ]);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
