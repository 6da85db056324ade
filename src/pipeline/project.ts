/**
 * Every dvc.yaml of a repository, parsed and joined into one graph, and the lookup of the
 * targets users name (`train`, a foreach group, `sub/dvc.yaml:train`, `sub/dvc.yaml`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { toPosix } from '../core/fs.js';
import { gitMetaFiles } from '../core/git.js';
import { buildGraph, type Graph } from './graph.js';
import { recall, remember, stampOf } from './memo.js';
import { readPipeline, type Pipeline } from './parse.js';
import { trackReads } from './params.js';
import type { Stage } from './stage.js';

export const DVC_YAML = 'dvc.yaml';
const SKIP = new Set(['.git', '.cairn', '.dvc', 'node_modules']);

export interface Project {
  root: string;
  pipelines: Pipeline[];
  graph: Graph;
}

/** dvc.yaml files below root, root's first, then sorted. */
export function findDvcYamls(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (SKIP.has(e.name)) continue;
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.name === DVC_YAML) found.push(path.join(dir, e.name));
    }
  };
  const top = path.join(root, DVC_YAML);
  const listed = fs.existsSync(path.join(root, '.git')) ? gitListed(root) : undefined;
  if (listed !== undefined) found.push(...listed);
  else walk(root);
  return found.sort((a, b) => (a === top ? -1 : b === top ? 1 : a < b ? -1 : 1));
}

/** dvc.yaml files git knows or would add (ignored data folders are not walked). */
function gitListed(root: string): string[] | undefined {
  return gitMetaFiles(root)?.filter((f) => path.basename(f) === DVC_YAML);
}

export function loadProject(root: string): Project {
  const tmpDir = path.join(root, '.cairn', 'tmp');
  const pipelines = findDvcYamls(root).map((file) => {
    const known = recall(tmpDir, 'pipeline', file) as Pipeline | undefined;
    if (known !== undefined) return known;
    const stamp = stampOf(file);
    const { value, reads } = trackReads(() => readPipeline(file, { root }));
    remember(tmpDir, 'pipeline', file, [[file, stamp], ...reads], value);
    return value;
  });
  const stages = pipelines.flatMap((p) => p.stages);
  return { root, pipelines, graph: buildGraph(stages) };
}

/** Resolves user targets to stages; a group name gives all its generated stages. */
export function resolveTargets(project: Project, cwd: string, targets: readonly string[]): Stage[] {
  const stages = project.graph.stages;
  const result = new Set<Stage>();
  for (const target of targets) {
    let file: string | undefined;
    let name: string | undefined = target;
    const colon = target.lastIndexOf(':');
    if (colon > 0) {
      file = target.slice(0, colon);
      name = target.slice(colon + 1);
    } else if (target.endsWith(DVC_YAML)) {
      file = target;
      name = undefined;
    }
    const dvcfile = file === undefined ? undefined : path.resolve(cwd, file);
    const inFile = dvcfile === undefined ? stages : stages.filter((s) => s.dvcfile === dvcfile);
    const hits =
      name === undefined
        ? inFile
        : inFile.filter((s) => s.name === name || s.group === name || s.address === name);
    if (hits.length === 0) {
      const rel = dvcfile === undefined ? DVC_YAML : toPosix(path.relative(project.root, dvcfile));
      throw new CairnError(
        'unknown-target',
        `'${target}' does not exist: no stage of that name in ${rel}`,
        {
          hint: `Stages are: ${stages
            .slice(0, 20)
            .map((s) => s.address)
            .join(', ')}${stages.length > 20 ? ', …' : ''}. Run \`cairn dag\` to see them all.`,
        },
      );
    }
    for (const h of hits) result.add(h);
  }
  return [...result];
}
