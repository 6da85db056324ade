/**
 * One followed environment inside the agent: the step that moves each model's rollout forward
 * — measure the candidate, ask the rollout machine, persist the new state before acting on
 * it — and then its worker made to serve what that state means (worker-sync.ts).
 */
import type { Logger } from 'pino';
import type { AgentMetrics } from './agent-metrics.js';
import { StepWindows } from './analysis.js';
import { gateCheck, measureCandidate } from './candidate.js';
import type { Environment, ModelDeclaration } from './environment.js';
import { next, type Action, type ModelRolloutState, type Observation } from './rollout.js';
import { initialState } from './rollout-types.js';
import type { EnvironmentState } from './state.js';
import type { CairnCommand, Worker } from './worker.js';
import { changedSpec, liveModel, versionLabel, type LiveModel } from './worker-config.js';
import { WorkerSync } from './worker-sync.js';

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
  readonly #sync: WorkerSync;
  readonly #windows = new StepWindows();
  readonly #candidateErrors = new Map<string, string>();
  #desired: DesiredEnvironment | undefined;

  constructor(h: RunnerHooks) {
    this.#h = h;
    this.#sync = new WorkerSync({
      cairn: h.cairn,
      cwd: h.dir,
      stderr: process.stderr,
      ...(h.childEnv === undefined ? {} : { env: h.childEnv }),
      onListening: (pid, url) => void h.save((e) => ({ ...e, worker: { pid, url } })),
      onExit: (why) => {
        void h.save(({ worker: _gone, ...e }) => e);
        h.metrics.drift(h.name, 'worker');
        h.event({ reason: 'WorkerExited', severity: 'error', message: `${why}; restarting` });
      },
      onDrift: (model, found) => {
        h.metrics.drift(h.name, 'weights');
        const weights = this.#live().find((m) => m.name === model)?.weights;
        h.event({
          reason: 'DriftCorrected',
          severity: 'error',
          model,
          message: `weights were ${JSON.stringify(found)}, put back to ${JSON.stringify(weights)}`,
        });
      },
      onWarning: (model, reason) => {
        h.logger.warn({ model, reason }, 'worker');
      },
    });
  }

  get worker(): Worker {
    return this.#sync.worker;
  }

  /** What git declares, once a sync has read it. */
  get declared(): DesiredEnvironment | undefined {
    return this.#desired;
  }

  set declared(d: DesiredEnvironment | undefined) {
    this.#desired = d;
  }

  /** The worker URL serving `model` with all its routed versions loaded, else null. */
  target(model: string): string | null {
    const url = this.#sync.worker.url;
    const live = this.#live().find((m) => m.name === model);
    if (url === undefined || live === undefined) return null;
    const routed = Object.entries(live.weights).filter(([, w]) => w > 0);
    return routed.every(([v]) => this.#sync.has(model, v)) ? url : null;
  }

  #live(): LiveModel[] {
    const state = this.#h.state();
    return Object.entries(state.models)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => liveModel(name, s, state.specs?.[name] ?? { runtime: 'onnx' }))
      .filter((m): m is LiveModel => m !== undefined);
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
    const url = this.#sync.worker.url;
    const ready = url !== undefined && this.#sync.has(m.name, label);
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

  /** Makes the worker serve what the state means; a refused candidate fails its rollout. */
  async apply(): Promise<void> {
    const refused = await this.#sync.apply(this.#live());
    if (refused !== undefined) this.#failCandidates(refused.models, refused.reason);
  }

  async checkDrift(): Promise<void> {
    await this.#sync.checkDrift();
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
    await this.#sync.worker.stop();
  }
}

function omit<T>(record: Readonly<Record<string, T>>, keys: readonly string[]): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !keys.includes(k)));
}
