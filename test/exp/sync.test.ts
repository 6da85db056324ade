/**
 * `cairn exp push` / `exp pull`: experiment refs through a real bare git remote, under the same
 * names, and their cached outputs (files, `.dir` manifests and their members, `.dvc` data)
 * through a local-folder data remote.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { createSandbox, type Sandbox } from '../e2e/helpers.js';
import { expRefs, pipelineRepo } from './setup.js';

test('experiments pushed to a git remote are pulled into a clone under the same refs, and exp show reads them there', async () => {
  const { sb, baseline } = await pipelineRepo();
  await using _ = sb;
  const remote = `${sb.dir}/remote.git`;
  await sb.exec('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  await sb.git(['remote', 'add', 'origin', remote]);
  await sb.git(['push', '-q', 'origin', 'main']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.2', '-n', 'keep']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'other']);

  const pushed = await sb.cairnOk(['exp', 'push', 'origin', 'keep', '--no-cache']);
  expect(pushed.stdout).toContain('Pushed 1 experiment (git refs only');
  const ref = `refs/exps/${baseline.slice(0, 2)}/${baseline.slice(2)}/keep`;
  const onRemote = await sb.exec('git', ['ls-remote', remote, 'refs/exps/*']);
  expect(onRemote.stdout).toBe(`${(await expRefs(sb)).get(ref) ?? ''}\t${ref}\n`);
  await sb.cairnOk(['exp', 'push', 'origin', '--no-cache']); // HEAD's: both
  expect(
    (await sb.exec('git', ['ls-remote', remote, 'refs/exps/*'])).stdout.trim().split('\n'),
  ).toHaveLength(2);

  const clone = `${sb.dir}/clone`;
  await sb.exec('git', ['clone', '-q', remote, clone]);
  expect((await sb.exec('git', ['for-each-ref', 'refs/exps'], { cwd: clone })).stdout).toBe('');
  const pulled = await sb.cairnOk(['exp', 'pull', 'origin', 'keep', '--no-cache'], { cwd: clone });
  expect(pulled.stdout).toContain('Pulled 1 experiment');
  const show = JSON.parse((await sb.cairnOk(['exp', 'show', '--json'], { cwd: clone })).stdout) as {
    groups: { experiments: { name: string; metrics: Record<string, Record<string, number>> }[] }[];
  };
  expect(show.groups[0]?.experiments.map((e) => [e.name, e.metrics['metrics.json']?.loss])).toEqual(
    [['keep', 0.8]],
  );

  const missing = await sb.cairn(['exp', 'pull', 'origin', 'nope', '--no-cache'], { cwd: clone });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no experiment named 'nope' on origin");
});

// --- refs plus cache objects -------------------------------------------------------------------

/** train.sh LR: a cached file, a cached directory (with a subfolder) and an uncached metric. */
const TRAIN = `#!/bin/sh
awk -v lr="$1" 'BEGIN { printf "{\\"loss\\": %.4f}\\n", 1 - lr }' > metrics.json
echo "model-$1" > model.bin
mkdir -p features/sub
echo "a-$1" > features/a.txt
echo "b-$1" > features/sub/b.txt
`;

const DVC_YAML = `stages:
  train:
    cmd: sh train.sh \${train.lr}
    deps:
      - train.sh
      - data.txt
    params:
      - train
    outs:
      - model.bin
      - features
    metrics:
      - metrics.json:
          cache: false
`;

interface SyncJson {
  refs: string[];
  cache?: { remote: string; objects: number; transferred: number; present: number; bytes: number };
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Every object file under a cache or remote folder, as `<md5>` / `<md5>.dir`. */
function objectsIn(dir: string): string[] {
  const base = path.join(dir, 'files', 'md5');
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base)
    .flatMap((p) => fs.readdirSync(path.join(base, p)).map((rest) => `${p}${rest}`))
    .sort();
}

function objectFile(dir: string, id: string): string {
  return path.join(dir, 'files', 'md5', id.slice(0, 2), id.slice(2));
}

/** The objects an experiment needs, read from its commit's dvc.lock and .dir manifest. */
async function expectedObjects(sb: Sandbox, cacheDir: string, rev: string): Promise<string[]> {
  const lock = parse(await sb.git(['show', `${rev}:dvc.lock`])) as {
    stages: { train: { outs: { path: string; md5: string }[] } };
  };
  const outs = new Map(lock.stages.train.outs.map((o) => [o.path, o.md5]));
  const dir = outs.get('features') ?? '';
  const manifest = JSON.parse(fs.readFileSync(objectFile(cacheDir, dir), 'utf8')) as {
    md5: string;
  }[];
  return [
    outs.get('model.bin') ?? '',
    dir,
    ...manifest.map((e) => e.md5),
    md5('data\n'), // data.txt, tracked by data.txt.dvc
  ].sort();
}

/** A repo with the pipeline, `data.txt` added, a data remote `storage` as default, pushed to a bare remote. */
async function dataRepo(): Promise<{ sb: Sandbox; storage: string; remote: string }> {
  const sb = await createSandbox();
  fs.writeFileSync(sb.path('train.sh'), TRAIN);
  fs.writeFileSync(sb.path('params.yaml'), 'train:\n  lr: 0.5\n');
  fs.writeFileSync(sb.path('dvc.yaml'), DVC_YAML);
  fs.writeFileSync(sb.path('data.txt'), 'data\n');
  await sb.cairnOk(['add', 'data.txt']);
  const storage = `${sb.dir}/storage`;
  await sb.cairnOk(['config', 'set', 'remote.storage', storage]);
  await sb.cairnOk(['config', 'set', 'core.remote', 'storage']);
  await sb.git(['add', '-A']);
  await sb.git(['commit', '-qm', 'pipeline']);
  const remote = `${sb.dir}/remote.git`;
  await sb.exec('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  await sb.git(['remote', 'add', 'origin', remote]);
  await sb.git(['push', '-q', 'origin', 'main']);
  return { sb, storage, remote };
}

test('exp push sends the cache objects to the data remote, and exp pull into a fresh clone brings them back so exp apply restores the outputs', async () => {
  const { sb, storage, remote } = await dataRepo();
  await using _ = sb;
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.2', '-n', 'keep']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'other']);
  const cacheDir = sb.path('.cairn/cache');
  const keepRef = [...(await expRefs(sb)).keys()].find((r) => r.endsWith('/keep')) ?? '';
  const keepObjects = await expectedObjects(sb, cacheDir, keepRef);
  expect(keepObjects).toHaveLength(5); // model.bin, features .dir, its two files, data.txt

  const pushed = JSON.parse(
    (await sb.cairnOk(['--json', 'exp', 'push', 'origin', 'keep'])).stdout,
  ) as SyncJson;
  expect(pushed).toEqual({
    refs: [keepRef],
    cache: {
      remote: 'storage',
      objects: 5,
      transferred: 5,
      present: 0,
      bytes: keepObjects.reduce((n, id) => n + fs.statSync(objectFile(cacheDir, id)).size, 0),
    },
  });
  expect(objectsIn(storage)).toEqual(keepObjects); // only keep's: other's model is not there
  for (const id of keepObjects)
    expect(fs.readFileSync(objectFile(storage, id))).toEqual(
      fs.readFileSync(objectFile(cacheDir, id)),
    );
  expect((await sb.exec('git', ['ls-remote', remote, 'refs/exps/*'])).stdout).toContain(keepRef);

  // Again: nothing to copy.
  const again = JSON.parse(
    (await sb.cairnOk(['--json', 'exp', 'push', 'origin', 'keep'])).stdout,
  ) as SyncJson;
  expect(again.cache).toMatchObject({ objects: 5, transferred: 0, present: 5, bytes: 0 });

  const clone = `${sb.dir}/clone`;
  await sb.exec('git', ['clone', '-q', remote, clone]);
  const text = await sb.cairnOk(['exp', 'pull', 'origin', 'keep'], { cwd: clone });
  expect(text.stdout).toContain("Pulled 1 experiment; 5 cache objects pulled from 'storage'");
  expect(objectsIn(path.join(clone, '.cairn/cache'))).toEqual(keepObjects);
  expect(
    (
      await sb.exec('git', ['for-each-ref', '--format=%(refname)', 'refs/exps', 'refs/cairn'], {
        cwd: clone,
      })
    ).stdout,
  ).toBe(`${keepRef}\n`); // the ref, and no staging refs left behind

  await sb.cairnOk(['exp', 'apply', 'keep'], { cwd: clone });
  expect(fs.readFileSync(path.join(clone, 'model.bin'), 'utf8')).toBe('model-0.2\n');
  expect(fs.readFileSync(path.join(clone, 'features/a.txt'), 'utf8')).toBe('a-0.2\n');
  expect(fs.readFileSync(path.join(clone, 'features/sub/b.txt'), 'utf8')).toBe('b-0.2\n');
  await sb.cairnOk(['checkout', 'data.txt.dvc'], { cwd: clone });
  expect(fs.readFileSync(path.join(clone, 'data.txt'), 'utf8')).toBe('data\n');

  // A second pull finds everything in place.
  const repeat = JSON.parse(
    (await sb.cairnOk(['--json', 'exp', 'pull', 'origin', 'keep'], { cwd: clone })).stdout,
  ) as SyncJson;
  expect(repeat.cache).toMatchObject({ objects: 5, transferred: 0, present: 5 });
});

test('bad input stops exp push/pull with nothing written: unknown git remote, unknown or unset data remote, an object missing or corrupt on the remote', async () => {
  const { sb, storage, remote } = await dataRepo();
  await using _ = sb;
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.2', '-n', 'keep']);
  await sb.cairnOk(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'other']);

  const noGit = await sb.cairn(['exp', 'push', 'nowhere', 'keep']);
  expect(noGit.code).toBe(1);
  expect(noGit.stderr).toContain("Git remote 'nowhere' cannot be read");
  expect(noGit.stderr).toContain('git remote add');
  expect(objectsIn(storage)).toEqual([]); // checked before any data moved

  const noData = await sb.cairn(['exp', 'push', 'origin', 'keep', '-r', 'elsewhere']);
  expect(noData.code).toBe(1);
  expect(noData.stderr).toContain("No data remote named 'elsewhere'");
  expect(noData.stderr).toContain('Known data remotes: storage');
  expect((await sb.exec('git', ['ls-remote', remote, 'refs/exps/*'])).stdout).toBe('');

  // Both experiments pushed, then one of other's objects lost on the remote.
  await sb.cairnOk(['exp', 'push', 'origin']);
  const lost = md5('model-0.3\n');
  fs.rmSync(objectFile(storage, lost));
  const otherRef = [...(await expRefs(sb)).keys()].find((r) => r.endsWith('/other')) ?? '';
  const otherFeatures = (
    parse(await sb.git(['show', `${otherRef}:dvc.lock`])) as {
      stages: { train: { outs: { path: string; md5: string }[] } };
    }
  ).stages.train.outs.find((o) => o.path === 'features')?.md5;

  const clone = `${sb.dir}/clone`;
  await sb.exec('git', ['clone', '-q', remote, clone]);
  const missing = await sb.cairn(['exp', 'pull', 'origin', 'other'], { cwd: clone });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`1 object missing on data remote 'storage'`);
  expect(missing.stderr).toContain(
    `${lost} (model.bin (dvc.lock stage 'train', experiment 'other'))`,
  );
  expect(missing.stderr).toContain('Nothing was pulled');
  expect(objectsIn(path.join(clone, '.cairn/cache'))).toEqual([]);
  expect(objectsIn(storage)).toContain(otherFeatures); // present there, yet not copied
  expect(
    (await sb.exec('git', ['for-each-ref', 'refs/exps', 'refs/cairn'], { cwd: clone })).stdout,
  ).toBe('');

  // A corrupt object is refused by its digest, and the ref stays out.
  const model = md5('model-0.2\n');
  fs.chmodSync(objectFile(storage, model), 0o644);
  fs.writeFileSync(objectFile(storage, model), 'tampered\n');
  const corrupt = await sb.cairn(['exp', 'pull', 'origin', 'keep'], { cwd: clone });
  expect(corrupt.code).toBe(1);
  expect(corrupt.stderr).toContain(`expected digest ${model}, got ${md5('tampered\n')}`);
  expect(objectsIn(path.join(clone, '.cairn/cache'))).not.toContain(model);
  expect(
    (await sb.exec('git', ['for-each-ref', 'refs/exps', 'refs/cairn'], { cwd: clone })).stdout,
  ).toBe('');

  // --no-cache moves the refs alone.
  const refsOnly = JSON.parse(
    (await sb.cairnOk(['--json', 'exp', 'pull', 'origin', 'other', '--no-cache'], { cwd: clone }))
      .stdout,
  ) as SyncJson;
  expect(refsOnly).toEqual({ refs: [otherRef] });

  // No -r and no core.remote: say how to set one.
  await sb.cairnOk(['config', 'unset', 'core.remote'], { cwd: clone });
  const unset = await sb.cairn(['exp', 'pull', 'origin', 'keep'], { cwd: clone });
  expect(unset.code).toBe(1);
  expect(unset.stderr).toContain('No data remote given, and core.remote is not set');
  expect(unset.stderr).toContain('Pass -r with one of storage');
});
