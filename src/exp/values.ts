/** Params and metrics files flattened to `dotted.key → scalar` columns, as DVC's tables show them. */
import path from 'node:path';
import { YamlFloat } from '../core/ruamel-yaml.js';
import { parseParams } from '../pipeline/params.js';
import { flattenSimpleYaml } from './simple-yaml.js';
import { isValueMap, type Value } from '../pipeline/values.js';

/** A table cell: numbers stay numbers; params lists are shown as their JSON text. */
export type Cell = string | number | boolean | null;

/** `file → dotted key → value` */
export type FileValues = Record<string, Record<string, Cell>>;

/**
 * Flattens a params (`keepLists`) or metrics file. Metrics keep only scalars in nested maps;
 * lists are dropped, as DVC drops them.
 */
export function flattenValues(
  file: string,
  text: string,
  keepLists: boolean,
): Record<string, Cell> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.toml' && ext !== '.py') {
    const simple = flattenSimpleYaml(text);
    if (simple !== undefined) return simple;
  }
  const data = parseParams(file, text);
  const out: Record<string, Cell> = {};
  const walk = (prefix: string, v: Value): void => {
    if (v instanceof YamlFloat) out[prefix] = v.value;
    else if (Array.isArray(v)) {
      if (keepLists)
        out[prefix] = JSON.stringify(v, (_k, x: unknown) => (x instanceof YamlFloat ? x.value : x));
    } else if (isValueMap(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix === '' ? k : `${prefix}.${k}`, x);
    } else out[prefix] = v;
  };
  walk('', data);
  return out;
}

/** What a dvc.yaml says about metrics and params files (paths relative to the repository root). */
export interface PipelineFiles {
  metrics: string[];
  params: string[];
}

/** Reads metrics and params file names from a dvc.yaml's plain data (vars and `${}` not resolved). */
export function pipelineFiles(data: unknown, dir = ''): PipelineFiles {
  const metrics = new Set<string>();
  const params = new Set<string>(['params.yaml']);
  const join = (p: string): string => (dir === '' ? p : path.posix.join(dir, p));
  const addOuts = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      if (typeof item === 'string') metrics.add(join(item));
      else if (item !== null && typeof item === 'object')
        for (const k of Object.keys(item as object)) metrics.add(join(k));
    }
  };
  if (data === null || typeof data !== 'object') return { metrics: [], params: [...params] };
  const top = data as Record<string, unknown>;
  addOuts(top.metrics);
  const stages = top.stages;
  if (stages !== null && typeof stages === 'object')
    for (const stage of Object.values(stages as Record<string, unknown>)) {
      if (stage === null || typeof stage !== 'object') continue;
      const s = stage as Record<string, unknown>;
      addOuts(s.metrics);
      if (Array.isArray(s.params))
        for (const p of s.params)
          if (p !== null && typeof p === 'object')
            for (const k of Object.keys(p as object)) params.add(join(k));
    }
  return {
    metrics: [...metrics].filter((m) => !m.includes('${')),
    params: [...params].filter((p) => !p.includes('${')),
  };
}
