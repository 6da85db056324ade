/**
 * The data of `exp show`: the baselines, their experiments and the workspace, each with its
 * params and metrics read straight from git objects — `git cat-file --batch`, a few rounds of
 * one process each, every distinct blob parsed once — or, for a metrics file DVC keeps out of
 * git, from the cache by the md5 the commit's dvc.lock records.
 */
import fs from 'node:fs';
import path from 'node:path';
import { yamlLib } from '../core/yaml-lib.js';
import { catFileBatch, git, type BatchObject } from '../core/git.js';
import { listExpRefs, resolveCommit, type ExpRef } from './refs.js';
import type { ExpRepo } from './run.js';
import {
  flattenValues,
  pipelineFiles,
  type Cell,
  type FileValues,
  type PipelineFiles,
} from './values.js';

export interface ExpRow {
  /** the experiment's name, the baseline's branch (or short id), or `workspace` */
  name: string;
  kind: 'workspace' | 'baseline' | 'experiment';
  /** the commit id; `workspace` for the workspace */
  rev: string;
  /** the experiment's parent */
  baseline?: string;
  /** seconds since the epoch */
  created?: number;
  params: FileValues;
  metrics: FileValues;
  /** files that could not be read or parsed */
  errors: string[];
}

/** A baseline and the experiments on top of it, oldest first. */
export interface ExpGroup {
  baseline: ExpRow;
  experiments: ExpRow[];
}

export interface ShowSelection {
  /** -A: every baseline that has experiments, and HEAD */
  all: boolean;
  /** --rev: these baselines (default HEAD) */
  revs: readonly string[];
}

export interface ShowData {
  workspace?: ExpRow;
  groups: ExpGroup[];
}

class Reader {
  readonly #root: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #parsed = new Map<string, Record<string, Cell> | Error>();
  readonly #pipelines = new Map<string, PipelineFiles>();

  constructor(root: string, env: NodeJS.ProcessEnv) {
    this.#root = root;
    this.#env = env;
  }

  batch(requests: string[]): Promise<(BatchObject | undefined)[]> {
    return catFileBatch(this.#root, requests, this.#env);
  }

  /** A blob flattened, once per distinct object. */
  values(file: string, obj: BatchObject, keepLists: boolean): Record<string, Cell> | Error {
    const key = `${obj.oid}:${String(keepLists)}:${path.extname(file)}`;
    let v = this.#parsed.get(key);
    if (v === undefined) {
      try {
        v = flattenValues(file, obj.data.toString('utf8'), keepLists);
      } catch (error) {
        v = error as Error;
      }
      this.#parsed.set(key, v);
    }
    return v;
  }

  pipeline(obj: BatchObject | undefined): PipelineFiles {
    if (obj === undefined) return pipelineFiles(null);
    let p = this.#pipelines.get(obj.oid);
    if (p === undefined) {
      try {
        p = pipelineFiles(yamlLib().parse(obj.data.toString('utf8')) as unknown);
      } catch {
        p = pipelineFiles(null);
      }
      this.#pipelines.set(obj.oid, p);
    }
    return p;
  }
}

/** md5 of each cached output path in a dvc.lock (plain data). */
function lockedMd5s(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let data: unknown;
  try {
    data = yamlLib().parse(text) as unknown;
  } catch {
    return out;
  }
  const stages = (
    data as { stages?: Record<string, { outs?: { path?: string; md5?: string }[] }> } | null
  )?.stages;
  for (const s of Object.values(stages ?? {}))
    for (const o of s.outs ?? [])
      if (o.path !== undefined && o.md5 !== undefined) out.set(o.path, o.md5);
  return out;
}

function cachedObject(cacheDir: string, md5: string): string {
  return path.join(cacheDir, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
}

/** Params and metrics of many commits, in a few batched rounds. */
async function readCommits(
  reader: Reader,
  commits: readonly string[],
  cacheDir: string,
): Promise<Map<string, Pick<ExpRow, 'params' | 'metrics' | 'errors'>>> {
  const first = await reader.batch(commits.map((c) => `${c}:dvc.yaml`));
  const files = commits.map((_, i) => reader.pipeline(first[i]));
  const requests: string[] = [];
  const owners: { commit: number; file: string; kind: 'params' | 'metrics' }[] = [];
  commits.forEach((c, i) => {
    const f = files[i] ?? pipelineFiles(null);
    for (const p of f.params) {
      requests.push(`${c}:${p}`);
      owners.push({ commit: i, file: p, kind: 'params' });
    }
    for (const m of f.metrics) {
      requests.push(`${c}:${m}`);
      owners.push({ commit: i, file: m, kind: 'metrics' });
    }
  });
  const objects = await reader.batch(requests);
  type Values = Pick<ExpRow, 'params' | 'metrics' | 'errors'>;
  const rows = commits.map((): Values => ({ params: {}, metrics: {}, errors: [] }));
  const missingMetrics = new Map<number, string[]>();
  owners.forEach((o, j) => {
    const row = rows[o.commit];
    const obj = objects[j];
    if (row === undefined) return;
    if (obj === undefined) {
      if (o.kind === 'metrics')
        missingMetrics.set(o.commit, [...(missingMetrics.get(o.commit) ?? []), o.file]);
      return;
    }
    const v = reader.values(o.file, obj, o.kind === 'params');
    if (v instanceof Error) row.errors.push(v.message);
    else row[o.kind][o.file] = v;
  });
  // Metrics DVC keeps out of git: from the cache, by the md5 in the commit's dvc.lock.
  const lockOf = [...missingMetrics.keys()];
  const locks = await reader.batch(lockOf.map((i) => `${commits[i] ?? ''}:dvc.lock`));
  lockOf.forEach((i, k) => {
    const lock = locks[k];
    const row = rows[i];
    if (lock === undefined || row === undefined) return;
    const md5s = lockedMd5s(lock.data.toString('utf8'));
    for (const file of missingMetrics.get(i) ?? []) {
      const md5 = md5s.get(file);
      if (md5 === undefined) continue;
      let text: Buffer;
      try {
        text = fs.readFileSync(cachedObject(cacheDir, md5));
      } catch {
        row.errors.push(`${file}: not in the cache (md5 ${md5}); pull it first`);
        continue;
      }
      const v = reader.values(file, { oid: `md5:${md5}`, data: text }, false);
      if (v instanceof Error) row.errors.push(v.message);
      else row.metrics[file] = v;
    }
  });
  return new Map(commits.map((c, i) => [c, rows[i] ?? { params: {}, metrics: {}, errors: [] }]));
}

/** The workspace's params and metrics, from its files. */
export function readWorkspace(root: string): ExpRow {
  const row: ExpRow = {
    name: 'workspace',
    kind: 'workspace',
    rev: 'workspace',
    params: {},
    metrics: {},
    errors: [],
  };
  let files = pipelineFiles(null);
  try {
    files = pipelineFiles(
      yamlLib().parse(fs.readFileSync(path.join(root, 'dvc.yaml'), 'utf8')) as unknown,
    );
  } catch {
    // no pipeline: params.yaml only
  }
  const read = (file: string, kind: 'params' | 'metrics'): void => {
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, file), 'utf8');
    } catch {
      return;
    }
    try {
      row[kind][file] = flattenValues(file, text, kind === 'params');
    } catch (error) {
      row.errors.push((error as Error).message);
    }
  };
  for (const p of files.params) read(p, 'params');
  for (const m of files.metrics) read(m, 'metrics');
  return row;
}

/** Branch or tag name of each commit that has one (the first in ref order). */
async function refLabels(r: ExpRepo): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const refs = await git(
    r.root,
    ['for-each-ref', '--format=%(objectname) %(refname:short)', 'refs/heads', 'refs/tags'],
    { env: r.env },
  );
  for (const line of refs.split('\n')) {
    const [sha, name] = line.split(' ');
    if (sha !== undefined && name !== undefined && !names.has(sha)) names.set(sha, name);
  }
  return names;
}

/** Committer times of commits, through one cat-file batch. */
async function commitTimes(reader: Reader, shas: readonly string[]): Promise<Map<string, number>> {
  const objects = await reader.batch([...shas]);
  const out = new Map<string, number>();
  shas.forEach((sha, i) => {
    const text = objects[i]?.data.toString('utf8') ?? '';
    const m = /^committer .* (\d+) [-+]\d{4}$/m.exec(text);
    if (m !== null) out.set(sha, Number(m[1]));
  });
  return out;
}

/** Params and metrics of some commits. */
export function readRevisions(
  r: ExpRepo,
  commits: readonly string[],
): Promise<Map<string, Pick<ExpRow, 'params' | 'metrics' | 'errors'>>> {
  return readCommits(new Reader(r.root, r.env), commits, r.cacheDir);
}

export async function collectExperiments(r: ExpRepo, sel: ShowSelection): Promise<ShowData> {
  // The independent git calls at once.
  const labelsP = refLabels(r);
  const [refs, head] = await Promise.all([
    listExpRefs(r.root, r.env),
    git(r.root, ['rev-parse', '--verify', 'HEAD^{commit}'], { env: r.env }).then(
      (out) => out.trim(),
      () => undefined,
    ),
  ]);
  let baselines: string[];
  if (sel.revs.length > 0)
    baselines = await Promise.all(sel.revs.map((rev) => resolveCommit(r.root, rev, r.env)));
  else if (sel.all)
    baselines = [
      ...new Set([...(head === undefined ? [] : [head]), ...refs.map((e) => e.baseline)]),
    ];
  else baselines = head === undefined ? [] : [head];
  const wanted = new Set(baselines);
  const exps = refs
    .filter((e) => wanted.has(e.baseline))
    .sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
  const reader = new Reader(r.root, r.env);
  const data = await readCommits(reader, [...baselines, ...exps.map((e) => e.commit)], r.cacheDir);
  const [labels, times] = await Promise.all([labelsP, commitTimes(reader, baselines)]);
  const empty = { params: {}, metrics: {}, errors: [] };
  const groups: ExpGroup[] = baselines.map((b) => ({
    baseline: {
      name: labels.get(b) ?? b.slice(0, 7),
      kind: 'baseline',
      rev: b,
      created: times.get(b) ?? 0,
      ...(data.get(b) ?? empty),
    },
    experiments: exps
      .filter((e: ExpRef) => e.baseline === b)
      .map((e) => ({
        name: e.name,
        kind: 'experiment' as const,
        rev: e.commit,
        baseline: b,
        created: e.created,
        ...(data.get(e.commit) ?? empty),
      })),
  }));
  return { workspace: readWorkspace(r.root), groups };
}
