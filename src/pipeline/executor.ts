/**
 * `repro`'s engine: runs the planned stages with up to N at once as their upstream stages
 * finish; each changed stage has its outputs removed, is restored from the run-cache or run,
 * has its outputs committed to the cache and its dvc.lock entry written as soon as it is done.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import type { Workspace } from '../data/workspace.js';
import { failureMessage, type ReproSink, type StageFailure } from './events.js';
import type { Graph } from './graph.js';
import { LockWriter } from './lock-writer.js';
import type { LockEntry, LockItem } from './lockfile.js';
import { PathLocks } from './path-locks.js';
import { StatusMemo } from './status-memo.js';
import { readEpochSync } from '../data/cache.js';
import { ignoreInGit } from '../data/gitignore.js';
import { linkOutput } from '../data/checkout.js';
import type { Md5Hex } from '../core/digest.js';
import { restoreOutput } from './restore.js';
import { runCommands } from './run-command.js';
import { lookupRun, runCacheKey, runCacheUsable, saveRun } from './run-cache.js';
import { commandLines, type Stage } from './stage.js';
import { currentItem, inCache, paramValues, stageStatus, topObjectCached } from './status.js';
import type { ValueMap } from './values.js';

export interface ExecOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** -f: run every planned stage */
  force: boolean;
  /** --force-downstream: a stage that ran forces its dependents */
  forceDownstream: boolean;
  /** -k: continue with the stages that do not depend on a failed one */
  keepGoing: boolean;
  dry: boolean;
  allowMissing: boolean;
  noCommit: boolean;
  noRunCache: boolean;
  /** parallel stages, at least 1 */
  jobs: number;
  sink: ReproSink;
  /** aborting it stops the stages' commands */
  signal?: AbortSignal;
}

export interface StageResult {
  stage: string;
  how: 'ran' | 'run-cache' | 'dry' | 'unchanged' | 'failed' | 'blocked' | 'not-reached';
  /** wall-clock ms spent on the stage */
  ms: number;
  message?: string;
}

export interface ReproResult {
  stages: StageResult[];
  failed: boolean;
}

type Outcome = { how: 'ran' | 'run-cache' | 'dry' | 'unchanged' } | { failure: StageFailure };

export class Executor {
  readonly #ws: Workspace;
  readonly #graph: Graph;
  readonly #opts: ExecOptions;
  readonly #locks: PathLocks;
  readonly #writer: LockWriter;
  readonly #produced: Set<string>;
  readonly #memo: StatusMemo;
  readonly #memoExtra: string;
  #gitignores: Promise<unknown> = Promise.resolve();

  constructor(ws: Workspace, graph: Graph, opts: ExecOptions) {
    this.#ws = ws;
    this.#graph = graph;
    this.#opts = opts;
    const timeout = ws.repo.config.core.lock_timeout * 1000;
    this.#locks = new PathLocks(ws.repo.tmpDir, timeout, opts.jobs);
    this.#writer = new LockWriter(ws.repoRoot, ws.repo.tmpDir, timeout);
    this.#produced = new Set(graph.stages.flatMap((s) => s.outs.map((o) => o.abs)));
    this.#memo = new StatusMemo(ws.repo.tmpDir);
    this.#memoExtra = `repro:${String(opts.allowMissing)}:${readEpochSync(ws.cache)}:${ws.cache.dir}`;
  }

  async run(plan: readonly Stage[]): Promise<ReproResult> {
    const index = new Map(plan.map((s, i) => [s, i]));
    const inPlan = (s: Stage): boolean => index.has(s);
    const waiting = new Map<Stage, number>();
    for (const s of plan)
      waiting.set(s, [...(this.#graph.upstream.get(s) ?? [])].filter(inPlan).length);
    const results = new Map<Stage, StageResult>();
    const ranUpstream = new Set<Stage>();
    const ready = new ReadyQueue((s: Stage) => index.get(s) ?? 0);
    for (const s of plan) if (waiting.get(s) === 0) ready.push(s);
    const running = new Map<Stage, Promise<void>>();
    let stopped = false;

    const block = (failed: Stage): void => {
      const stack = [...(this.#graph.downstream.get(failed) ?? [])];
      while (stack.length > 0) {
        const s = stack.pop();
        if (s === undefined || !inPlan(s) || results.has(s)) continue;
        results.set(s, { stage: s.address, how: 'blocked', ms: 0 });
        this.#opts.sink({ type: 'stage-skip', stage: s.address, why: 'upstream-failed' });
        stack.push(...(this.#graph.downstream.get(s) ?? []));
      }
    };
    const finish = (s: Stage, result: StageResult): void => {
      results.set(s, result);
      running.delete(s);
      if (result.how === 'failed') {
        if (!this.#opts.keepGoing) stopped = true;
        block(s);
        return;
      }
      const didRun = result.how === 'ran' || result.how === 'run-cache' || result.how === 'dry';
      for (const d of this.#graph.downstream.get(s) ?? []) {
        if (!inPlan(d)) continue;
        if (didRun && this.#opts.forceDownstream) ranUpstream.add(d);
        const left = (waiting.get(d) ?? 0) - 1;
        waiting.set(d, left);
        if (left === 0 && !results.has(d)) ready.push(d);
      }
    };

    for (;;) {
      // `stopped` is set by `finish`, which runs between awaits.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      while (!stopped && ready.size > 0 && running.size < Math.max(1, this.#opts.jobs)) {
        const s = ready.pop();
        if (s === undefined || results.has(s)) continue;
        const started = Date.now();
        const forced = this.#opts.force || ranUpstream.has(s);
        running.set(
          s,
          this.#stage(s, forced).then(
            (outcome) => {
              finish(s, this.#result(s, outcome, Date.now() - started));
            },
            (error: unknown) => {
              const message = error instanceof Error ? error.message : String(error);
              finish(
                s,
                this.#result(s, { failure: { reason: 'error', message } }, Date.now() - started),
              );
            },
          ),
        );
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    this.#memo.save();
    await this.#writer.flush();
    for (const s of plan) {
      if (results.has(s)) continue;
      results.set(s, { stage: s.address, how: 'not-reached', ms: 0 });
      this.#opts.sink({ type: 'stage-skip', stage: s.address, why: 'not-reached' });
    }
    const ordered = plan.map((s) => results.get(s)).filter((r) => r !== undefined);
    return { stages: ordered, failed: ordered.some((r) => r.how === 'failed') };
  }

  #result(s: Stage, outcome: Outcome, ms: number): StageResult {
    const where = `${s.pos.file}:${s.pos.line}:${s.pos.col}`;
    if ('failure' in outcome) {
      const message = failureMessage(s.address, outcome.failure, where);
      this.#opts.sink({
        type: 'stage-failed',
        stage: s.address,
        ms,
        failure: outcome.failure,
        message,
      });
      return { stage: s.address, how: 'failed', ms, message };
    }
    if (outcome.how === 'unchanged')
      this.#opts.sink({ type: 'stage-skip', stage: s.address, why: 'unchanged' });
    else this.#opts.sink({ type: 'stage-done', stage: s.address, ms, how: outcome.how });
    return { stage: s.address, how: outcome.how, ms };
  }

  async #changes(s: Stage): Promise<unknown[]> {
    const entry = this.#writer.read(s.lockfile).get(s.name);
    const fingerprint = this.#memo.fingerprint(s, entry, this.#memoExtra, (o) =>
      topObjectCached(this.#ws, o),
    );
    if (this.#memo.isUnchanged(s.address, fingerprint)) return [];
    const changes = await stageStatus(this.#ws, s, entry, {
      cwd: this.#opts.cwd,
      allowMissing: this.#opts.allowMissing,
      produced: (abs) => this.#produced.has(abs),
    });
    if (changes.length === 0) this.#memo.set(s.address, fingerprint);
    else this.#memo.forget(s.address);
    return changes;
  }

  async #stage(s: Stage, forced: boolean): Promise<Outcome> {
    // Cheap check without locks first: a no-op repro takes no lock at all.
    if (!forced && (await this.#changes(s)).length === 0) return { how: 'unchanged' };
    const keys = [
      ...s.outs.map((o) => o.abs),
      ...s.deps.map((d) => d.abs).filter((d) => this.#produced.has(d)),
    ].map((abs) => this.#ws.rel(abs));
    const release = await this.#locks.acquire(keys, `cairn repro ${s.address}`, (key, owner) => {
      this.#opts.sink({
        type: 'lock-wait',
        stage: s.address,
        lock: key,
        pid: owner.pid,
        command: owner.command,
      });
    });
    try {
      const changes = forced ? [] : await this.#changes(s);
      if (!forced && changes.length === 0) return { how: 'unchanged' };
      this.#memo.forget(s.address);
      this.#opts.sink({ type: 'stage-start', stage: s.address, changes, forced });
      return await this.#execute(s);
    } finally {
      await release();
    }
  }

  /** As DVC: cached outputs get a `/name` line in the .gitignore beside them. */
  async #ignoreOutputs(s: Stage): Promise<void> {
    if (this.#ws.repo.config.core.no_scm) return;
    // One at a time: parallel stages may share a folder, and so a .gitignore.
    const run = this.#gitignores.then(async () => {
      for (const o of s.outs) if (o.cache) await ignoreInGit(o.abs);
    });
    this.#gitignores = run.catch(() => undefined);
    await run;
  }

  async #execute(s: Stage): Promise<Outcome> {
    const ws = this.#ws;
    if (s.frozen) {
      const missing = s.outs.filter((o) => !fs.existsSync(o.abs)).map((o) => o.path);
      if (missing.length > 0)
        return { failure: { reason: 'frozen-missing-output', paths: missing } };
    }
    const missingDeps = s.deps.filter((d) => !fs.existsSync(d.abs)).map((d) => d.path);
    if (missingDeps.length > 0 && !this.#opts.dry)
      return { failure: { reason: 'missing-dep', paths: missingDeps } };
    const params = new Map<string, ValueMap>();
    for (const p of s.params) {
      const values = paramValues(p);
      if (values === undefined) return { failure: { reason: 'missing-dep', paths: [p.path] } };
      if (values.missing.length > 0)
        return { failure: { reason: 'missing-param', file: p.path, keys: values.missing } };
      params.set(p.path, values.values);
    }
    if (this.#opts.dry) {
      for (const command of commandLines(s.cmd))
        this.#opts.sink({ type: 'stage-command', stage: s.address, command });
      return { how: 'dry' };
    }
    const previous = this.#writer.read(s.lockfile).get(s.name);
    const deps: LockItem[] = [];
    for (const d of s.deps) {
      const item = await currentItem(
        ws,
        d.abs,
        d.path,
        previous?.deps.find((x) => x.path === d.path),
        false,
      );
      if (item === undefined) return { failure: { reason: 'missing-dep', paths: [d.path] } };
      deps.push(item);
    }
    for (const o of s.outs) {
      if (!o.persist) await fsp.rm(o.abs, { recursive: true, force: true });
    }
    const useRunCache = runCacheUsable(s) && !this.#opts.noRunCache;
    if (useRunCache && !this.#opts.force) {
      const key: LockEntry = {
        cmd: s.cmd,
        deps,
        params,
        outs: s.outs.map((o) => ({
          path: o.path,
          hash: 'md5',
          md5: undefined,
          size: undefined,
          nfiles: undefined,
          isexec: false,
        })),
      };
      const hit = lookupRun(ws.cache.dir, runCacheKey(key));
      if (hit !== undefined && hit.outs.every((o) => inCache(ws, o))) {
        this.#opts.sink({ type: 'stage-cached', stage: s.address });
        for (const o of hit.outs) await restoreOutput(ws, path.resolve(s.wdir, o.path), o);
        await this.#ignoreOutputs(s);
        await this.#writer.record(s.lockfile, s.name, { cmd: s.cmd, deps, params, outs: hit.outs });
        this.#opts.sink({ type: 'lock-written', stage: s.address, file: this.#ws.rel(s.lockfile) });
        return { how: 'run-cache' };
      }
    }
    const logFile = path.join(
      ws.repo.cairnDir,
      'logs',
      `${s.address.replace(/[/:\\@]/g, '_')}.log`,
    );
    const failure = await runCommands({
      root: ws.repoRoot,
      stage: s.address,
      wdir: s.wdir,
      commands: commandLines(s.cmd),
      env: this.#opts.env,
      logFile,
      sink: this.#opts.sink,
      ...(this.#opts.signal === undefined ? {} : { signal: this.#opts.signal }),
    });
    if (failure !== undefined) return { failure };
    const missing = s.outs.filter((o) => !fs.existsSync(o.abs)).map((o) => o.path);
    if (missing.length > 0) return { failure: { reason: 'missing-output', paths: missing } };
    const outs: LockItem[] = [];
    for (const o of s.outs) {
      // Uncached metrics and plots still go to the cache, so a run-cache hit can restore them.
      const store = (o.cache || o.kind !== 'outs') && !this.#opts.noCommit;
      const item = await currentItem(ws, o.abs, o.path, undefined, store);
      if (item === undefined) return { failure: { reason: 'missing-output', paths: [o.path] } };
      // With hardlink or symlink cache types, committed outputs become links, as after `add`.
      if (store && o.cache && item.md5 !== undefined)
        await linkOutput(ws, o.abs, {
          kind: item.md5.endsWith('.dir') ? 'dir' : 'file',
          md5: item.md5 as Md5Hex,
          size: item.size ?? 0,
          ...(item.nfiles === undefined ? {} : { nfiles: item.nfiles }),
          ...(item.isexec ? { isexec: true } : {}),
        });
      outs.push(item);
    }
    await this.#ignoreOutputs(s);
    const entry: LockEntry = { cmd: s.cmd, deps, params, outs };
    await this.#writer.record(s.lockfile, s.name, entry);
    this.#opts.sink({
      type: 'lock-written',
      stage: s.address,
      file: toPosix(this.#ws.rel(s.lockfile)),
    });
    if (useRunCache && !this.#opts.noCommit && s.outs.every((o) => o.cache || o.kind !== 'outs')) {
      await saveRun(ws.cache.dir, entry);
    }
    return { how: 'ran' };
  }
}

/** A min-heap of ready stages by plan position, so they start in plan order. */
class ReadyQueue {
  readonly #items: Stage[] = [];
  constructor(readonly rank: (s: Stage) => number) {}
  get size(): number {
    return this.#items.length;
  }
  push(s: Stage): void {
    const a = this.#items;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pi = a[p];
      const ii = a[i];
      if (pi === undefined || ii === undefined || this.rank(pi) <= this.rank(ii)) break;
      a[p] = ii;
      a[i] = pi;
      i = p;
    }
  }
  pop(): Stage | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const rankOf = (k: number): number => {
        const x = a[k];
        return x === undefined ? Infinity : this.rank(x);
      };
      if (l < a.length && rankOf(l) < rankOf(m)) m = l;
      if (r < a.length && rankOf(r) < rankOf(m)) m = r;
      if (m === i) break;
      const t = a[m];
      if (t === undefined) break;
      a[m] = a[i] ?? t;
      a[i] = t;
      i = m;
    }
    return top;
  }
}
