/**
 * The output paths that dvc.yaml stages declare, read without running the templating engine:
 * enough to refuse `cairn add` of a path a pipeline produces. Templated paths (`${…}`) and
 * generated stages (foreach/matrix) are skipped here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface DeclaredOutput {
  /** absolute path */
  path: string;
  stage: string;
  /** the dvc.yaml that declares it */
  file: string;
}

export function declaredOutputs(dvcYamlFiles: readonly string[]): DeclaredOutput[] {
  const found: DeclaredOutput[] = [];
  for (const file of dvcYamlFiles) {
    let doc: unknown;
    try {
      doc = parse(fs.readFileSync(file, 'utf8'));
    } catch {
      continue; // the pipeline commands report malformed dvc.yaml files
    }
    const stages = (doc as { stages?: unknown } | null)?.stages;
    if (stages === null || typeof stages !== 'object') continue;
    for (const [name, raw] of Object.entries(stages as Record<string, unknown>)) {
      if (raw === null || typeof raw !== 'object' || 'foreach' in raw || 'matrix' in raw) continue;
      const stage = raw as Record<string, unknown>;
      const wdir = typeof stage.wdir === 'string' ? stage.wdir : '.';
      for (const key of ['outs', 'metrics', 'plots']) {
        const list = stage[key];
        if (!Array.isArray(list)) continue;
        for (const item of list) {
          const p =
            typeof item === 'string'
              ? item
              : item !== null && typeof item === 'object'
                ? Object.keys(item as object)[0]
                : undefined;
          if (p === undefined || p.includes('${')) continue;
          found.push({ path: path.resolve(path.dirname(file), wdir, p), stage: name, file });
        }
      }
    }
  }
  return found;
}
