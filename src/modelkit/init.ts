/**
 * `kit init` (§1.6): a Kitfile generated from a directory with kit's heuristics, plus what Cairn
 * knows — the pipeline's model output (dvc.yaml), tracked datasets (.dvc files) and params.yaml
 * as the model's parameters.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { parseDvcFile, outPath } from '../data/dvcfile.js';
import type { GoValue } from '../oci/gojson.js';
import type {
  CodeEntry,
  DatasetEntry,
  DocsEntry,
  Kitfile,
  ModelPart,
  PromptEntry,
} from './kitfile.js';

const WEIGHTS = new Set(
  '.safetensors .pkl .joblib .bin .pth .pt .mar .pt2 .ptl .pb .ckpt .tflite .tfrecords .npy .npz .keras .h5 .caffemodel .pmml .coreml .gguf .ggml .ggmf .llamafile .onnx'.split(
    ' ',
  ),
);
const METADATA = new Set(['.json', '.yaml', '.xml', '.txt']);
const DOCS = new Set(['.md', '.adoc', '.html', '.pdf']);
const DATASETS = new Set(['.tar', '.zip', '.parquet', '.csv']);
const CODE_DIRS = new Set(['src', 'pkg', 'lib', 'build']);
const PROMPT_FILES = new Set(['AGENTS.md', 'CLAUDE.md', 'SKILL.md']);
/** Cairn's own pipeline files: described by the Kitfile's parameters and provenance, not packed as parts. */
const PIPELINE_FILES = new Set([
  'dvc.yaml',
  'dvc.lock',
  'params.yaml',
  '.gitignore',
  '.dvcignore',
  'Kitfile',
  'kitfile',
  '.kitfile',
  '.kitignore',
]);

type Kind = 'model' | 'metadata' | 'docs' | 'dataset' | 'other';

function kindOf(name: string): Kind {
  const ext = path.extname(name).toLowerCase();
  if (WEIGHTS.has(ext)) return 'model';
  if (METADATA.has(ext)) return 'metadata';
  if (DOCS.has(ext)) return 'docs';
  if (DATASETS.has(ext)) return 'dataset';
  return 'other';
}

/** A few SPDX ids recognised from a licence file's first lines (kit uses google/licensecheck). */
function detectLicense(text: string): string | undefined {
  const head = text.slice(0, 2000);
  if (/Apache License[\s\S]*Version 2\.0/i.test(head)) return 'Apache-2.0';
  if (/^\s*MIT License/im.test(head) || /Permission is hereby granted, free of charge/i.test(head))
    return 'MIT';
  if (/GNU GENERAL PUBLIC LICENSE[\s\S]*Version 3/i.test(head)) return 'GPL-3.0';
  if (/GNU GENERAL PUBLIC LICENSE[\s\S]*Version 2/i.test(head)) return 'GPL-2.0';
  if (/BSD 3-Clause/i.test(head)) return 'BSD-3-Clause';
  if (/Mozilla Public License,? (Version|v\.?) ?2\.0/i.test(head)) return 'MPL-2.0';
  return undefined;
}

export interface InitOptions {
  dir: string;
  name: string;
  description?: string;
  author?: string;
  /**
   * The outputs `dir/dvc.yaml` declares (absolute paths), given that file; the caller parses
   * pipelines, so that this module stays beside them rather than above.
   */
  pipelineOutputs?: (dvcYaml: string) => readonly { path: string }[];
}

export async function generateKitfile(o: InitOptions): Promise<Kitfile> {
  const dirents = (await fsp.readdir(o.dir, { withFileTypes: true }))
    .filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const k: Kitfile = { manifestVersion: '1.0.0', package: { name: o.name } };
  if (o.description !== undefined) k.package.description = o.description;
  if (o.author !== undefined) k.package.authors = [o.author];

  const docs: DocsEntry[] = [];
  const prompts: PromptEntry[] = [];
  const code: CodeEntry[] = [];
  const datasets: DatasetEntry[] = [];
  const models: { path: string; size: number }[] = [];
  const metadata: string[] = [];
  let catchAll = false;
  let license: string | undefined;

  // Cairn: datasets tracked by .dvc files, and the pipeline's declared model outputs.
  const tracked = new Set<string>();
  for (const d of dirents) {
    if (!d.isFile() || !d.name.endsWith('.dvc')) continue;
    try {
      const dvc = parseDvcFile(
        path.join(o.dir, d.name),
        await fsp.readFile(path.join(o.dir, d.name), 'utf8'),
      );
      for (const out of dvc.outs) {
        const rel = path.relative(o.dir, outPath(dvc, out)).split(path.sep).join('/');
        if (rel.startsWith('..')) continue;
        tracked.add(rel.split('/')[0] ?? rel);
        if (kindOf(rel) === 'model')
          models.push({ path: rel, size: sizeOf(path.join(o.dir, rel)) });
        else datasets.push({ name: path.posix.basename(rel).replace(/\.[^.]*$/, ''), path: rel });
      }
    } catch {
      // an unreadable .dvc file: `cairn status` reports it; init just leaves it out
    }
  }
  const dvcYaml = path.join(o.dir, 'dvc.yaml');
  if (o.pipelineOutputs !== undefined && fs.existsSync(dvcYaml)) {
    for (const out of o.pipelineOutputs(dvcYaml)) {
      const rel = path.relative(o.dir, out.path).split(path.sep).join('/');
      if (rel.startsWith('..') || tracked.has(rel)) continue;
      if (kindOf(rel) === 'model') {
        tracked.add(rel.split('/')[0] ?? rel);
        models.push({ path: rel, size: sizeOf(path.join(o.dir, rel)) });
      }
    }
  }

  let dirEntries = 0;
  const dirCode: CodeEntry[] = [];
  for (const d of dirents) {
    const name = d.name;
    if (tracked.has(name) || PIPELINE_FILES.has(name) || name.endsWith('.dvc')) continue;
    if (d.isFile()) {
      const lower = name.toLowerCase();
      // Current kit: agent instructions and *.prompt* files are prompts.
      if (PROMPT_FILES.has(name) || lower.includes('.prompt')) {
        prompts.push({ path: name });
        continue;
      }
      if (lower.startsWith('readme')) {
        docs.push({ path: name, description: 'Readme file' });
        continue;
      }
      if (lower.startsWith('license')) {
        docs.push({ path: name, description: 'License file' });
        license ??= detectLicense(
          await fsp.readFile(path.join(o.dir, name), 'utf8').catch(() => ''),
        );
        continue;
      }
      switch (kindOf(name)) {
        case 'model':
          models.push({ path: name, size: sizeOf(path.join(o.dir, name)) });
          break;
        case 'metadata':
          metadata.push(name);
          break;
        case 'docs':
          docs.push({ path: name });
          break;
        case 'dataset':
          datasets.push({ path: name });
          break;
        case 'other':
          catchAll = true;
          break;
      }
      continue;
    }
    if (!d.isDirectory()) continue;
    if (name === 'docs') {
      docs.push({ path: name });
      continue;
    }
    if (CODE_DIRS.has(name)) {
      dirCode.push({ path: name });
      continue;
    }
    const kinds = new Set(listFiles(path.join(o.dir, name)).map(kindOf));
    const only = kinds.size === 1 ? [...kinds][0] : undefined;
    if (only === 'dataset') datasets.push({ path: name });
    else if (only === 'docs') docs.push({ path: name });
    else if (only === 'model') models.push({ path: name, size: dirSize(path.join(o.dir, name)) });
    else if (kinds.size > 0) {
      dirEntries++;
      dirCode.push({ path: name });
    }
  }
  if (dirEntries > 5) catchAll = true;
  else code.push(...dirCode.filter((c) => CODE_DIRS.has(c.path ?? '') || !catchAll));

  // Several model files: the largest is the model if it stands out, else the first by name.
  if (models.length > 0) {
    models.sort((a, b) => (a.path < b.path ? -1 : 1));
    const avg = models.reduce((s, m) => s + m.size, 0) / models.length;
    const largest = models.reduce((a, b) => (b.size > a.size ? b : a));
    const main = models.length > 1 && largest.size > 1.5 * avg ? largest : models[0];
    const parts: ModelPart[] = models.filter((m) => m !== main).map((m) => ({ path: m.path }));
    k.model = { name: o.name, path: main?.path ?? '.' };
    parts.push(...metadata.map((p) => ({ path: p })));
    if (parts.length > 0) k.model.parts = parts;
  } else {
    datasets.push(...metadata.map((p) => ({ path: p })));
  }
  const params = await readParams(o.dir);
  if (params !== undefined) {
    k.model ??= { name: o.name };
    k.model.parameters = params;
  }
  if (catchAll) code.push({ path: '.' });
  if (license !== undefined) {
    if (k.model !== undefined) k.model.license = license;
    else if (datasets.length === 1 && datasets[0] !== undefined) datasets[0].license = license;
    else if (code.length === 1 && code[0] !== undefined) code[0].license = license;
    else k.package.license = license;
  }
  if (code.length > 0) k.code = code;
  if (datasets.length > 0) k.datasets = datasets;
  if (docs.length > 0) k.docs = docs;
  if (prompts.length > 0) k.prompts = prompts;
  return k;
}

async function readParams(dir: string): Promise<GoValue | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, 'params.yaml'), 'utf8');
  } catch {
    return undefined;
  }
  const v = parse(text) as GoValue;
  return v === null ? undefined : v;
}

function sizeOf(p: string): number {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() ? dirSize(p) : st.size;
  } catch {
    return 0;
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...listFiles(p));
    else if (d.isFile()) out.push(d.name);
  }
  return out;
}

function dirSize(dir: string): number {
  let n = 0;
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) n += dirSize(p);
    else if (d.isFile()) n += fs.statSync(p).size;
  }
  return n;
}
