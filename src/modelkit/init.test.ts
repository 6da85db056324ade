// `cairn kit init`: kit's heuristics (§1.6) plus tracked datasets, the pipeline's model output
// and params.yaml as the model's parameters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKitfile } from './init.js';
import { declaredOutputs } from '../pipeline/declared-outputs.js';
import { kitfileToYaml } from './kitfile-yaml.js';
import { parseKitfile } from './kitfile-parse.js';
import { validateKitfile } from './kitfile-validate.js';

function project(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-init-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe('generateKitfile', () => {
  it('classifies files and folders like kit, and adds what Cairn knows', async () => {
    const dir = project({
      'model.onnx': Buffer.alloc(10_000),
      'tokenizer.json': '{}',
      'README.md': '# r',
      LICENSE: 'MIT License\n\nPermission is hereby granted, free of charge, ...',
      'params.yaml': 'train:\n  lr: 0.01\n  epochs: 3\n',
      'data.dvc':
        'outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  size: 10\n  nfiles: 1\n  hash: md5\n  path: data\n',
      'data/x.csv': 'a\n',
      'src/train.py': 'x',
      'docs/guide.md': 'g',
      'dvc.yaml':
        'stages:\n  train:\n    cmd: python src/train.py\n    outs:\n      - model.onnx\n',
    });
    const k = await generateKitfile({
      dir,
      name: 'demo',
      pipelineOutputs: (f) => declaredOutputs([f]),
    });
    const text = kitfileToYaml(k);
    expect(text).toBe(`manifestVersion: 1.0.0
package:
  name: demo
model:
  name: demo
  path: model.onnx
  license: MIT
  parts:
    - path: tokenizer.json
  parameters:
    train:
      epochs: 3
      lr: 0.01
code:
  - path: src
datasets:
  - name: data
    path: data
docs:
  - path: LICENSE
    description: License file
  - path: README.md
    description: Readme file
  - path: docs
`);
    expect(validateKitfile(parseKitfile('Kitfile', text)).problems).toEqual([]);
  });

  it('picks the largest of several weights when it stands out, and adds a catch-all for unknown files', async () => {
    const dir = project({
      'a.safetensors': Buffer.alloc(100),
      'b.safetensors': Buffer.alloc(10_000),
      'c.safetensors': Buffer.alloc(100),
      'run.sh': 'echo',
    });
    const k = await generateKitfile({ dir, name: 'multi' });
    expect(k.model?.path).toBe('b.safetensors');
    expect(k.model?.parts?.map((p) => p.path)).toEqual(['a.safetensors', 'c.safetensors']);
    expect(k.code).toEqual([{ path: '.' }]);
  });

  it('agent instructions and .prompt files become prompts', async () => {
    const k = await generateKitfile({
      dir: project({ 'AGENTS.md': 'a', 'system.prompt.md': 's', 'model.gguf': 'g' }),
      name: 'p',
    });
    expect(k.prompts).toEqual([{ path: 'AGENTS.md' }, { path: 'system.prompt.md' }]);
    expect(k.model?.path).toBe('model.gguf');
  });

  it('without a model, metadata files are datasets', async () => {
    const k = await generateKitfile({
      dir: project({ 'labels.json': '[]', 'train.csv': 'a' }),
      name: 'd',
    });
    expect(k.model).toBeUndefined();
    expect(k.datasets?.map((d) => d.path)).toEqual(['train.csv', 'labels.json']);
  });
});
