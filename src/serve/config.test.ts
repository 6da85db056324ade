import { describe, expect, test } from 'vitest';
import { ManifestError } from '../core/errors.js';
import { parseServeConfig } from './config.js';

const parse = (text: string) => parseServeConfig('serve.yaml', text, '/srv');

function failure(text: string): ManifestError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError');
}

describe('serve config', () => {
  test('a model with two versions, weighted traffic, batching and shadow resolves with defaults', () => {
    const config = parse(`
models:
  churn:
    batching: {maxBatchSize: 32}
    versions:
      v1: models/v1.onnx
      v2: {source: registry.local:5000/churn@sha256:${'a'.repeat(64)}}
    traffic: {v1: 90, v2: 10}
    sticky: {header: X-User}
    shadow: {version: v2, percent: 5}
`);
    const [model] = config.models;
    expect(model?.name).toBe('churn');
    expect(model?.runtime).toBe('onnx');
    expect(model?.batching).toEqual({ maxBatchSize: 32, maxLatencyMs: 2 });
    expect([...(model?.versions ?? [])]).toEqual([
      ['v1', '/srv/models/v1.onnx'],
      ['v2', `registry.local:5000/churn@sha256:${'a'.repeat(64)}`],
    ]);
    expect([...(model?.traffic ?? [])]).toEqual([
      ['v1', 90],
      ['v2', 10],
    ]);
    expect(model?.sticky).toEqual({ header: 'x-user' });
    expect(model?.pinHeader).toBe('x-model-version');
    expect(model?.shadow).toEqual({ version: 'v2', percent: 5 });
  });

  test('without traffic the last version declared takes all of it', () => {
    const [model] = parse(
      'models:\n  m:\n    versions:\n      a: a.onnx\n      b: b.onnx\n',
    ).models;
    expect([...(model?.traffic ?? [])]).toEqual([['b', 100]]);
  });

  test('an unknown key is reported at the key, with its line and column', () => {
    const error = failure('models:\n  m:\n    versions: {a: a.onnx}\n    batchSize: 4\n');
    expect(error.message).toBe("serve.yaml:4:5: unknown key 'batchSize' in 'models.m'");
    expect(error.hint).toContain('spelling');
  });

  test('a wrongly typed value is reported where it stands', () => {
    const error = failure('models:\n  m:\n    versions: {a: a.onnx}\n    threads: many\n');
    expect(error.message).toMatch(/^serve\.yaml:4:14: 'models\.m\.threads': .*number/);
  });

  test('traffic naming an undeclared version says which versions exist', () => {
    const error = failure(
      'models:\n  m:\n    versions: {a: a.onnx}\n    traffic: {a: 50, b: 50}\n',
    );
    expect(error.message).toBe(
      "serve.yaml:4:22: traffic names version 'b', which model 'm' does not declare",
    );
    expect(error.hint).toBe('Declared versions: a.');
  });

  test('weights that do not add up to 100 are refused', () => {
    const error = failure(
      'models:\n  m:\n    versions: {a: a.onnx, b: b.onnx}\n    traffic: {a: 50, b: 40}\n',
    );
    expect(error.message).toBe('serve.yaml:4:14: traffic weights add up to 90, not 100');
  });

  test('the process runtime needs a command', () => {
    const error = failure('models:\n  m:\n    runtime: process\n    versions: {a: model}\n');
    expect(error.message).toContain("serve.yaml:3:14: model 'm' uses the process runtime");
  });

  test('a missing versions key, bad YAML and an empty model list each name the place', () => {
    expect(failure('models:\n  m:\n    runtime: onnx\n').message).toBe(
      "serve.yaml:2:3: 'models.m.versions' is required (record)",
    );
    expect(failure('models:\n  m: [\n').message).toMatch(/^serve\.yaml:\d+:\d+: /);
    expect(failure('models: {}\n').message).toBe('serve.yaml:1:9: declares no model');
  });
});
