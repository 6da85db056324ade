/**
 * dvc.yaml read with positions and resolved into {@link Stage}s: `vars`, `foreach`/`do`,
 * `matrix` and `${}` are applied while walking the YAML nodes, so every error points at
 * dvc.yaml:line:col. This file reads the top level; source.ts holds the text and positions,
 * vars.ts, expand.ts and stage-fields.ts the stages below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, parseDocument, type Node, yamlMessage } from '../core/yaml-lib.js';
import { ManifestError } from '../core/errors.js';
import { Context, DEFAULT_FLAGS, InterpolationError, type FlagConfig } from './interpolate.js';
import { expandStage } from './expand.js';
import { readParamsFile } from './params.js';
import { PipelineSource } from './source.js';
import type { Stage } from './stage.js';
import { DEFAULT_PARAMS_FILE } from './stage-fields.js';
import { loadVars } from './vars.js';
import { isValueMap, type Value, type ValueMap } from './values.js';

export interface Pipeline {
  /** absolute path of the dvc.yaml */
  file: string;
  stages: Stage[];
  /** top-level `params` files */
  params: string[];
  metrics: string[];
  plots: Value[];
  artifacts: ValueMap;
}

const TOP_KEYS = new Set(['stages', 'vars', 'params', 'metrics', 'plots', 'artifacts', 'datasets']);
const BAD_NAME = /[:/\\@]/;

export interface ParseOptions {
  /** the repository root, for stage addresses */
  root: string;
  flags?: FlagConfig;
}

export function readPipeline(file: string, options: ParseOptions): Pipeline {
  return parsePipeline(file, fs.readFileSync(file, 'utf8'), options);
}

/** The top level: vars, the pipeline-wide lists, then each stage expanded and read. */
function parseTop(src: PipelineSource): Pipeline {
  const doc = parseDocument(src.text, { lineCounter: src.lines, uniqueKeys: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const p = src.lines.linePos(err.pos[0]);
    throw new ManifestError(src.rel, p.line, p.col, yamlMessage(err.message));
  }
  const rootNode = doc.contents as Node | null;
  const pipeline: Pipeline = {
    file: src.file,
    stages: [],
    params: [],
    metrics: [],
    plots: [],
    artifacts: {},
  };
  if (rootNode === null) return pipeline;
  if (!isMap(rootNode)) return src.fail(rootNode, 'dvc.yaml must be a mapping with `stages:`');
  const get = (key: string): Node | null | undefined =>
    (rootNode.items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
      Node | null | undefined;
  for (const pair of rootNode.items) {
    const key = src.keyOf(pair);
    if (!TOP_KEYS.has(key)) {
      src.fail(
        pair.key as Node,
        `unknown top-level key '${key}'`,
        `dvc.yaml allows ${[...TOP_KEYS].join(', ')}.`,
      );
    }
  }
  const ctx = new Context();
  const defaultParams = path.join(src.dir, DEFAULT_PARAMS_FILE);
  try {
    const data = readParamsFile(defaultParams);
    if (data !== undefined) {
      ctx.merge(data, DEFAULT_PARAMS_FILE);
      src.imported.set(defaultParams, null);
    }
  } catch (error) {
    if (!(error instanceof InterpolationError)) throw error;
  }
  loadVars(src, ctx, get('vars'), src.dir, '');

  for (const key of ['params', 'metrics'] as const) {
    const v = src.resolve(get(key), ctx, key);
    if (v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      src.fail(get(key), `\`${key}\` must be a list of file paths`);
    pipeline[key] = v;
  }
  const plots = src.resolve(get('plots'), ctx, 'plots');
  if (plots !== null) {
    if (!Array.isArray(plots)) src.fail(get('plots'), '`plots` must be a list');
    pipeline.plots = plots;
  }
  const artifacts = src.resolve(get('artifacts'), ctx, 'artifacts');
  if (artifacts !== null) {
    if (!isValueMap(artifacts)) src.fail(get('artifacts'), '`artifacts` must be a mapping');
    pipeline.artifacts = artifacts;
  }

  const stagesNode = get('stages');
  if (stagesNode === null || stagesNode === undefined) return pipeline;
  if (!isMap(stagesNode)) return src.fail(stagesNode, '`stages` must be a mapping of names');
  for (const pair of stagesNode.items) {
    const name = src.keyOf(pair);
    if (BAD_NAME.test(name) || name === '') {
      src.fail(pair.key as Node, `invalid stage name '${name}': it may not contain : / \\ @`);
    }
    const node = pair.value as Node | null;
    if (!isMap(node)) {
      src.fail(node ?? (pair.key as Node), `stage '${name}' must be a mapping with a \`cmd\``);
    }
    pipeline.stages.push(...expandStage(src, name, node, ctx, pair.key as Node));
  }
  return pipeline;
}

export function parsePipeline(file: string, text: string, options: ParseOptions): Pipeline {
  return parseTop(new PipelineSource(file, text, options.root, options.flags ?? DEFAULT_FLAGS));
}
