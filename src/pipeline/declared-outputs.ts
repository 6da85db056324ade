/**
 * The output paths that dvc.yaml stages declare, after templating (vars, foreach, matrix,
 * `${}`): enough to refuse `cairn add` of a path a pipeline produces.
 */
import path from 'node:path';
import { readPipeline } from './parse.js';

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
    let stages;
    try {
      stages = readPipeline(file, { root: path.dirname(file) }).stages;
    } catch {
      continue; // the pipeline commands report malformed dvc.yaml files
    }
    for (const stage of stages) {
      for (const out of stage.outs) found.push({ path: out.abs, stage: stage.name, file });
    }
  }
  return found;
}
