/**
 * `add`: hash a file or directory, store it in the cache, record it in `<path>.dvc` and keep
 * it out of git. Every target is checked before anything is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';
import { isInside } from '../core/fs.js';
import {
  DVC_SUFFIX,
  outPath,
  readDvcFile,
  writeDvcFile,
  type DvcFile,
  type DvcOut,
} from './dvcfile.js';
import { cacheTempPid, removeObjects, tempDir } from './cache.js';
import { sweepDeadTemps } from '../core/fs.js';
import { fileAccessError } from './hash.js';
import { ignoreInGit } from './gitignore.js';
import { linkOutput } from './checkout.js';
import { hashOutput, type OutputInfo } from './tree.js';
import type { Workspace } from './workspace.js';

export interface AddedOutput {
  /** POSIX, relative to the repo root */
  path: string;
  dvcFile: string;
  md5: string;
  size: number;
  nfiles?: number;
  /** false when the .dvc file already said exactly this */
  changed: boolean;
  /** files for the user to `git add`: the .dvc file and any .gitignore we changed */
  gitFiles: string[];
}

/** A path a pipeline stage produces, which `add` refuses to track. */
export interface ProducedOutput {
  /** absolute path */
  path: string;
  stage: string;
  /** the dvc.yaml that declares it */
  file: string;
}

/**
 * The outputs the pipelines of a repository declare, given their dvc.yaml files; called once
 * per `add`, and only when every target exists.
 */
export type ProducedOutputs = (dvcYamlFiles: readonly string[]) => readonly ProducedOutput[];

export async function addTargets(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
  producedOutputs: ProducedOutputs,
): Promise<AddedOutput[]> {
  if (targets.length === 0) {
    throw new CairnError('no-targets', 'Nothing to add', {
      hint: 'Name one or more files or directories: `cairn add data/`.',
    });
  }
  const resolved = await validateTargets(ws, cwd, targets, producedOutputs);
  // Partial objects of killed adds are of no use to anyone.
  await sweepDeadTemps(tempDir(ws.cache), cacheTempPid);
  // Hash (and store) every target before writing any .dvc file: a target that turns out to
  // be unreadable halfway leaves the workspace's metadata as it was.
  // A failure also takes back the objects this add stored, so the cache is as it was.
  const infos: OutputInfo[] = [];
  const stored: string[] = [];
  try {
    for (const abs of resolved) infos.push(await hashOutput(ws, abs, { store: true, stored }));
  } catch (error) {
    // Targets hashed before the failure saved index snapshots that vouch for their objects.
    await removeObjects(ws.cache, stored, infos.length > 0);
    throw error;
  }
  const results: AddedOutput[] = [];
  for (const [i, abs] of resolved.entries()) {
    const info = infos[i];
    if (info !== undefined) results.push(await record(ws, abs, info));
  }
  return results;
}

/** Checks all targets up front, so bad input changes nothing on disk. */
async function validateTargets(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
  producedOutputs: ProducedOutputs,
): Promise<string[]> {
  const resolved = targets.map((t) => {
    const abs = ws.resolveTarget(cwd, t.replace(/[\\/]+$/, '') || t);
    try {
      const st = fs.statSync(abs);
      if (!st.isFile() && !st.isDirectory()) {
        throw new CairnError('unsupported-file', `${t} is neither a regular file nor a directory`, {
          hint: 'Only files and directories can be tracked.',
        });
      }
    } catch (error) {
      if (error instanceof CairnError) throw error;
      // A mistyped path is not a broken link: only blame a link when there is one.
      if (
        errnoCode(error) === 'ENOENT' &&
        fs.lstatSync(abs, { throwIfNoEntry: false }) === undefined
      ) {
        throw new CairnError('path-not-found', `${t} does not exist`, {
          hint: 'Check the path: `cairn add` takes files or directories inside the repository.',
        });
      }
      throw fileAccessError(t, error);
    }
    if (abs.endsWith(DVC_SUFFIX)) {
      throw new CairnError(
        'add-dvc-file',
        `${t} is a .dvc file; it describes data rather than being data`,
        {
          hint: `Add the data it tracks instead: \`cairn add ${t.slice(0, -DVC_SUFFIX.length)}\`.`,
        },
      );
    }
    return abs;
  });
  const tracked = await ws.readAll();
  for (const abs of resolved) {
    for (const dvc of tracked) {
      for (const out of dvc.outs) {
        const o = outPath(dvc, out);
        if (o !== abs && (isInside(o, abs) || isInside(abs, o))) {
          throw new CairnError(
            'overlapping-output',
            `${ws.rel(abs)} overlaps ${ws.rel(o)}, which ${ws.rel(dvc.file)} already tracks`,
            {
              hint: `Track one or the other: \`cairn add ${ws.rel(o)}\` covers everything inside it.`,
            },
          );
        }
      }
    }
  }
  const produced = producedOutputs(pipelineFiles(ws));
  for (const abs of resolved) {
    for (const out of produced) {
      if (out.path === abs || isInside(out.path, abs) || isInside(abs, out.path)) {
        throw new CairnError(
          'pipeline-output',
          `${ws.rel(abs)} is produced by stage '${out.stage}' in ${ws.rel(out.file)}`,
          {
            hint: 'Pipeline outputs are tracked by dvc.lock: run `cairn repro` or `cairn commit` instead.',
          },
        );
      }
    }
  }
  return resolved;
}

function pipelineFiles(ws: Workspace): string[] {
  const root = path.join(ws.repoRoot, 'dvc.yaml');
  return fs.existsSync(root) ? [root] : [];
}

/** Writes the .dvc file, the .gitignore entry and the workspace links for one output. */
export async function record(
  ws: Workspace,
  abs: string,
  info: OutputInfo,
  existing?: DvcFile,
): Promise<AddedOutput> {
  const dvcPath = existing?.file ?? `${abs}${DVC_SUFFIX}`;
  const dvc: DvcFile =
    existing ??
    (fs.existsSync(dvcPath)
      ? await readDvcFile(dvcPath)
      : { file: dvcPath, outs: [], wdir: '.', extra: [] });
  let out = dvc.outs.find((o) => outPath(dvc, o) === abs);
  if (out === undefined) {
    out = {
      path: path.basename(abs),
      md5: undefined,
      size: undefined,
      nfiles: undefined,
      isexec: false,
      hash: 'md5',
      cache: true,
      extra: [],
      line: 0,
    } satisfies DvcOut;
    dvc.outs.push(out);
  }
  out.md5 = info.md5;
  out.size = info.size;
  out.nfiles = info.nfiles;
  out.isexec = info.isexec === true;
  out.hash = 'md5';
  const changed = await writeDvcFile(dvc);
  const gitFiles = [ws.rel(dvcPath)];
  if (!ws.repo.config.core.no_scm && (await ignoreInGit(abs))) {
    gitFiles.push(ws.rel(path.join(path.dirname(abs), '.gitignore')));
  }
  await linkOutput(ws, abs, info);
  const result: AddedOutput = {
    path: ws.rel(abs),
    dvcFile: ws.rel(dvcPath),
    md5: info.md5,
    size: info.size,
    changed,
    gitFiles: changed ? gitFiles : [],
  };
  if (info.nfiles !== undefined) result.nfiles = info.nfiles;
  return result;
}
