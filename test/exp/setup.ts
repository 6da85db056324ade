/** A small shell-command pipeline in a temp git repository, for the experiment scenarios. */
import fs from 'node:fs';
import { createSandbox, type Sandbox } from '../e2e/helpers.js';

const TRAIN = `#!/bin/sh
# train.sh LR EPOCHS: writes metrics.json (loss = 1 - lr) and model.bin
awk -v lr="$1" -v ep="$2" 'BEGIN { printf "{\\"loss\\": %.4f, \\"epochs\\": %d}\\n", 1 - lr, ep }' > metrics.json
echo "model-$1" > model.bin
`;

const PARAMS = `# training settings
train:
  lr: 0.5 # learning rate
  epochs: 3
  sleep: 0
`;

const DVC_YAML = `stages:
  train:
    cmd: sleep \${train.sleep} && sh train.sh \${train.lr} \${train.epochs}
    deps:
      - train.sh
    params:
      - train
    outs:
      - model.bin
    metrics:
      - metrics.json:
          cache: false
`;

/** A sandbox whose HEAD commit holds the pipeline; returns it and the baseline commit id. */
export async function pipelineRepo(): Promise<{ sb: Sandbox; baseline: string }> {
  const sb = await createSandbox();
  fs.writeFileSync(sb.path('train.sh'), TRAIN);
  fs.writeFileSync(sb.path('params.yaml'), PARAMS);
  fs.writeFileSync(sb.path('dvc.yaml'), DVC_YAML);
  await sb.git(['add', '-A']);
  await sb.git(['commit', '-qm', 'pipeline']);
  return { sb, baseline: (await sb.git(['rev-parse', 'HEAD'])).trim() };
}

/** Experiment refs as `name → commit`. */
export async function expRefs(sb: Sandbox): Promise<Map<string, string>> {
  const out = await sb.git(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/exps']);
  const refs = new Map<string, string>();
  for (const line of out.split('\n').filter((l) => l !== '')) {
    const [ref = '', commit = ''] = line.split(' ');
    refs.set(ref, commit);
  }
  return refs;
}

/** Folders a run left under .cairn/tmp/exps (temp worktrees are `wt-<pid>-<hex>`). */
export function tempWorktrees(sb: Sandbox): string[] {
  try {
    return fs.readdirSync(sb.path('.cairn/tmp/exps')).filter((n) => n.startsWith('wt-'));
  } catch {
    return [];
  }
}
