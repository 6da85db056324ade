/**
 * One followed environment inside the agent: its worker, and the step that moves each model's
 * rollout forward — measure the candidate, ask the rollout machine, persist the new state
 * before acting on it, then make the worker serve what that state means (serve.yaml, SIGHUP,
 * the admin traffic route). Also puts back weights changed by hand (drift).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../core/fs.js';
import type { AgentMetrics } from './agent-metrics.js';
import { StepWindows } from './analysis.js';
import { gateCheck, measureCandidate } from './candidate.js';
import type { Environment, ModelDeclaration } from './environment.js';
import { next, type Action, type ModelRolloutState, type Observation } from './rollout.js';
import { initialState } from './rollout-types.js';
import type { EnvironmentState } from './state.js';
import { readWeights, writeWeights } from './worker-admin.js';
import { Worker, type CairnCommand, type LoadedVersion } from './worker.js';
import {
  changedSpec,
  liveModel,
  sameWeights,
  serveConfigText,
  versionLabel,
  type LiveModel,
} from './worker-config.js';

/** What git declares for this environment, with each usable model's pinned reference. */
export interface DesiredEnvironment {
  readonly commit: string;
  readonly env: Environment;
  /** model → `registry/repo@sha256:…` present in the local store */
  readonly pinned: ReadonlyMap<string, string>;
}

export interface RunnerHooks {
  readonly name: string;
  readonly dir: string;
  readonly cairn: CairnCommand;
  readonly childEnv?: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  state(): EnvironmentState;
  /** persists (atomically) before anything acts on it */
  save(update: (e: EnvironmentState) => EnvironmentState): Promise<void>;
  /** a rollout or drift event: logged, appended to events.jsonl, notified */
  event(e: Record<string, unknown>, action?: Action): void;
}

const ANALYSIS_KEPT = 10;

export class EnvironmentRunner {
  readonly #h: RunnerHooks;
  readonly #worker: Worker;
  readonly #windows = new StepWindows();
  readonly #candidateErrors = new Map<string, string>();
  #desired: DesiredEnvironment | undefined;
  #loaded = new Map<string, Set<string>>();
  #written: string | undefined;
  #applied = new Map<string, Readonly<Record<string, number>>>();

  constructor(h: RunnerHooks) {
    this.#h = h;
    this.#worker = new Worker({
      cairn: h.cairn,
      configFile: path.join(h.dir, 'serve.yaml'),
      cwd: h.dir,
      stderr: process.stderr,
      ...(h.childEnv === undefined ? {} : { env: h.childEnv }),
      onListening: (url, models) => {
        this.#loaded = loadedMap(models);
        this.#applied.clear();
        const pid = this.#worker.pid;
        if (pid !== undefined) void h.save((e) => ({ ...e, worker: { pid, url } }));
      },
      onExit: (why) => {
        this.#loaded.clear();
        void h.save(({ worker: _gone, ...e }) => e);
        h.metrics.drift(h.name, 'worker');
        h.event({ reason: 'WorkerExited', severity: 'error', message: `${why}; restarting` });
      },
    });
  }

  get worker(): Worker {
    return this.#worker;
  }

  /** What git declares, once a sync has read it. */
  get declared(): DesiredEnvironment | undefined {
    return this.#desired;
  }

  set declared(d: DesiredEnvironment | undefined) {
    this.#desired = d;
  }

  /** The worker URL serving `model` with all its live versions loaded, else null. */
  target(model: string): string | null {
    const url = this.#worker.url;
    const s = this.#h.state().models[model];
    if (url === undefined || s === undefined) return null;
    const live = liveModel(model, s, this.#h.state().specs?.[model] ?? { runtime: 'onnx' });
    const loaded = this.#loaded.get(model);
    if (live === undefined || loaded === undefined) return null;
    return Object.entries(live.weights).every(([v, w]) => w === 0 || loaded.has(v)) ? url : null;
  }

  /** One step of every model's rollout, then the worker made to match. */
  async step(now = Date.now()): Promise<void> {
    const d = this.#desired;
    if (d !== undefined) {
      const declared = new Set(d.env.models.map((m) => m.name));
      const gone = Object.keys(this.#h.state().models).filter((m) => !declared.has(m));
      if (gone.length > 0) {
        await this.#h.save((e) => ({
          ...e,
          models: omit(e.models, gone),
          specs: omit(e.specs ?? {}, gone),
        }));
        for (const m of gone)
          this.#h.event({
            reason: 'ModelRemoved',
            severity: 'info',
            model: m,
            message: `git no longer declares ${m}`,
          });
      }
      for (const m of d.env.models) {
        const pinned = d.pinned.get(m.name);
        if (pinned !== undefined) await this.#stepModel(d, m, pinned, now);
      }
    }
    await this.apply();
  }

  async #stepModel(d: DesiredEnvironment, m: ModelDeclaration, pinned: string, now: number) {
    const before = this.#h.state().models[m.name] ?? initialState();
    const obs = await this.#observe(m, before);
    const t = next(
      before,
      {
        model: m.name,
        digest: pinned,
        commit: d.commit,
        ...(m.rollout === undefined ? {} : { rollout: m.rollout }),
      },
      obs,
      now,
    );
    const check = gateCheck(m, before, obs.candidate, now);
    const spec = changedSpec(this.#h.state().specs?.[m.name], m);
    if (
      JSON.stringify(t.state) === JSON.stringify(before) &&
      check === undefined &&
      spec === undefined
    )
      return;
    await this.#h.save((e) => ({
      ...e,
      models: { ...e.models, [m.name]: t.state },
      ...(spec === undefined ? {} : { specs: { ...e.specs, [m.name]: spec } }),
      ...(check === undefined
        ? {}
        : {
            analysis: {
              ...e.analysis,
              [m.name]: [...(e.analysis?.[m.name] ?? []), check].slice(-ANALYSIS_KEPT),
            },
          }),
    }));
    for (const a of t.actions) {
      if (a.type === 'notify') this.#h.event({ ...a.event }, a);
      // A candidate git declares again (at a new commit) gets a fresh start.
      if (a.type === 'startCandidate')
        this.#candidateErrors.delete(`${m.name}@${versionLabel(a.digest)}`);
      if (a.type === 'stopCandidate' || a.type === 'promote')
        this.#windows.forget(`${m.name}@${versionLabel(a.digest)}`);
    }
    this.#h.metrics.rollout(
      this.#h.name,
      m.name,
      t.state.phase === 'stable' ? undefined : t.state.step,
      t.state.candidateWeight,
    );
  }

  async #observe(m: ModelDeclaration, s: ModelRolloutState): Promise<Observation> {
    if (s.candidate === undefined) return { candidateReady: false };
    const label = versionLabel(s.candidate);
    const error = this.#candidateErrors.get(`${m.name}@${label}`);
    if (error !== undefined) return { candidateReady: false, candidateError: error };
    const url = this.#worker.url;
    const ready = url !== undefined && this.#loaded.get(m.name)?.has(label) === true;
    if (!ready || s.phase !== 'progressing') return { candidateReady: ready };
    try {
      const candidate = await measureCandidate(url, m, label, s.stepStartedAt, this.#windows);
      return { candidateReady: true, candidate };
    } catch (error) {
      const reason = (error as Error).message;
      this.#h.logger.warn({ model: m.name, reason }, 'measuring the candidate failed');
      return { candidateReady: true };
    }
  }

  /** Makes the worker serve what the state means: config written, worker started or reloaded, weights set. */
  async apply(): Promise<void> {
    const state = this.#h.state();
    const live = Object.entries(state.models)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => liveModel(name, s, state.specs?.[name] ?? { runtime: 'onnx' }))
      .filter((m): m is LiveModel => m !== undefined);
    if (live.length === 0) {
      await this.#worker.stop();
      return;
    }
    const text = serveConfigText(live);
    if (text !== this.#written) {
      await fsp.mkdir(this.#h.dir, { recursive: true });
      await writeFileAtomic(path.join(this.#h.dir, 'serve.yaml'), text);
      this.#written = text;
    }
    const fresh = live.filter((m) =>
      Object.keys(m.versions).some((v) => this.#loaded.get(m.name)?.has(v) !== true),
    );
    const stale = [...this.#loaded].some(([name, versions]) => {
      const m = live.find((l) => l.name === name);
      return m === undefined || [...versions].some((v) => m.versions[v] === undefined);
    });
    if (this.#worker.url === undefined) {
      if (this.#worker.busy) return; // starting, or waiting out its backoff
      await this.#worker.start().catch((error: unknown) => {
        this.#failCandidates(fresh, (error as Error).message);
      });
      return;
    }
    if (fresh.length > 0 || stale) {
      // Traffic moves first (an abort must not wait for a reload), to versions already loaded.
      for (const m of live) {
        const routed = Object.entries(m.weights).filter(([, w]) => w > 0);
        if (!routed.every(([v]) => this.#loaded.get(m.name)?.has(v) === true)) continue;
        const set = this.#applied.get(m.name);
        if (set === undefined || !sameWeights(set, m.weights))
          await this.#putWeights(m.name, m.weights);
      }
      const outcome = await this.#worker.reload();
      if (outcome.ok) {
        this.#loaded = loadedMap(
          live.flatMap((m) =>
            Object.keys(m.versions).map((version) => ({ name: m.name, version })),
          ),
        );
        for (const m of live) this.#applied.set(m.name, m.weights);
      } else {
        this.#failCandidates(fresh, outcome.reason);
      }
      return;
    }
    for (const m of live) {
      const set = this.#applied.get(m.name);
      if (set !== undefined && sameWeights(set, m.weights)) continue;
      await this.#putWeights(m.name, m.weights);
    }
  }

  /** Puts back weights someone changed through the worker's admin route. */
  async checkDrift(): Promise<void> {
    const url = this.#worker.url;
    if (url === undefined) return;
    for (const [model, weights] of this.#applied) {
      const live = await readWeights(url, model);
      if (live === undefined || sameWeights(live, weights)) continue;
      this.#h.metrics.drift(this.#h.name, 'weights');
      this.#h.event({
        reason: 'DriftCorrected',
        severity: 'error',
        model,
        message: `weights were ${JSON.stringify(live)}, put back to ${JSON.stringify(weights)}`,
      });
      await this.#putWeights(model, weights);
    }
  }

  async #putWeights(model: string, weights: Readonly<Record<string, number>>): Promise<void> {
    const url = this.#worker.url;
    if (url === undefined) return;
    const problem = await writeWeights(url, model, weights);
    if (problem === undefined) this.#applied.set(model, weights);
    else this.#h.logger.warn({ model, reason: problem }, 'setting weights failed');
  }

  #failCandidates(models: readonly LiveModel[], reason: string): void {
    const state = this.#h.state();
    for (const m of models) {
      const candidate = state.models[m.name]?.candidate;
      if (candidate !== undefined)
        this.#candidateErrors.set(`${m.name}@${versionLabel(candidate)}`, reason);
    }
    this.#h.logger.error(
      { environment: this.#h.name, reason },
      'the worker refused the new configuration',
    );
  }

  async stop(): Promise<void> {
    await this.#worker.stop();
  }
}

function loadedMap(models: readonly LoadedVersion[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const m of models) map.set(m.name, (map.get(m.name) ?? new Set()).add(m.version));
  return map;
}

function omit<T>(record: Readonly<Record<string, T>>, keys: readonly string[]): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !keys.includes(k)));
}
