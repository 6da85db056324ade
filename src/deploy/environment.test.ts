import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ManifestError } from '../core/errors.js';
import { environmentJsonSchema, parseEnvironment } from './environment.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const parse = (text: string, name = 'prod') =>
  parseEnvironment(`environments/${name}.yaml`, text, name);

function failure(text: string): ManifestError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError');
}

const HEAD = 'apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: prod\nspec:\n';

describe('environment manifests', () => {
  test('a model with a canary rollout and gates resolves with Flagger-like defaults', () => {
    const env = parse(`${HEAD}  models:
    churn:
      modelkit: registry.local:5000/acme/churn@${DIGEST}  # deployed by cairn
      rollout:
        steps:
          - setWeight: 10
          - pause: {duration: 30s}
          - analysis: {}
          - setWeight: 50
        analysis:
          maxErrorRate: 1
          maxP99Ms: 250
`);
    const [model] = env.models;
    expect(env.name).toBe('prod');
    expect(env.allowTags).toBe(false);
    expect(model?.name).toBe('churn');
    expect(model?.reference.digest).toBe(DIGEST);
    expect(model?.reference.repository).toBe('acme/churn');
    expect(model?.runtime).toBe('onnx');
    expect(model?.rollout?.onFailure).toBe('abort');
    expect(model?.rollout?.analysis).toEqual({
      interval: '10s',
      minRequests: 20,
      maxErrorRate: 1,
      maxP99Ms: 250,
      maxFailedChecks: 0,
    });
  });

  test('a tag without a digest is refused unless the environment allows tags', () => {
    const error = failure(`${HEAD}  models:\n    churn:\n      modelkit: acme/churn:v2\n`);
    expect(error.message).toBe(
      "environments/prod.yaml:8:17: model 'churn' names acme/churn:v2 without a digest",
    );
    expect(error.hint).toContain('allowTags');
    const env = parse(
      `${HEAD}  allowTags: true\n  models:\n    churn:\n      modelkit: acme/churn:v2\n`,
    );
    expect(env.models[0]?.reference.tag).toBe('v2');
  });

  test('an unknown key, a bad duration and a falling weight each point at their place', () => {
    expect(failure(`${HEAD}  models: {}\n  replicas: 3\n`).message).toBe(
      "environments/prod.yaml:7:3: unknown key 'replicas' in 'spec'",
    );
    const model = `${HEAD}  models:\n    m:\n      modelkit: a/b@${DIGEST}\n      rollout:\n        steps:\n`;
    expect(failure(`${model}          - pause: {duration: soon}\n`).message).toMatch(
      /^environments\/prod\.yaml:11:31: 'spec\.models\.m\.rollout\.steps\[0\]/,
    );
    expect(failure(`${model}          - setWeight: 50\n          - setWeight: 20\n`).message).toBe(
      'environments/prod.yaml:12:24: setWeight 20 goes down from 50',
    );
  });

  test('metadata.name must match the file, and an analysis step needs gates', () => {
    expect(failure(HEAD.replace('name: prod', 'name: staging') + '  models: {}\n').message).toBe(
      "environments/prod.yaml:4:9: metadata.name is 'staging' but the file declares environment 'prod'",
    );
    const error = failure(
      `${HEAD}  models:\n    m:\n      modelkit: a/b@${DIGEST}\n      rollout:\n        steps:\n          - analysis: {}\n`,
    );
    expect(error.message).toBe(
      'environments/prod.yaml:11:13: an analysis step needs rollout.analysis to say what to measure',
    );
  });

  test('docs/environment.schema.json is the schema the parser enforces', () => {
    const file = path.resolve(import.meta.dirname, '../../docs/environment.schema.json');
    const committed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    expect(committed).toEqual(environmentJsonSchema());
  });
});
