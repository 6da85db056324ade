/**
 * `cairn agent`: follows environments in a git repository and makes this machine serve them.
 * Two loops: the sync (every --interval, at once on a webhook push) fetches git, parses each
 * environment and pulls its ModelKits; the beat (every 5 s when idle, twice a second during a
 * rollout, and at once after a sync that changed something) moves rollouts forward, keeps the workers serving what the state says, records what was
 * applied and puts back drift. Problems keep the last good state serving and name the reason.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { AgentMetrics } from './agent-metrics.js';
import { environmentStatus, type EnvironmentStatus } from './agent-status.js';
import { EnvironmentRunner } from './agent-env.js';
import { readDeclared, revisionOutcome } from './agent-sync.js';
import { GitSource } from './git-source.js';
import { Notifier, toNotification } from './notify.js';
import type { Action } from './rollout-types.js';
import type { RouteTable } from './router.js';
import {
  appendEvent,
  emptyEnvironment,
  readState,
  recordRevision,
  updateEnvironment,
  writeState,
  type AgentState,
  type EnvironmentState,
} from './state.js';
import type { CairnCommand } from './worker.js';

export interface AgentOptions {
  readonly repo: string;
  readonly branch: string;
  readonly environments: readonly string[];
  readonly stateDir: string;
  /** ms between git fetches */
  readonly intervalMs: number;
  readonly cairn: CairnCommand;
  readonly childEnv?: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** puts a ModelKit into the local store (pulled by digest, verified); answers it pinned by digest */
  readonly fetchKit: (reference: string) => Promise<string>;
}

/** How often an idle agent checks its workers and drift; a rollout beats faster. */
const IDLE_BEAT_MS = 5000;
const ROLLING_BEAT_MS = 500;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class Agent {
  readonly metrics = new AgentMetrics();
  readonly #o: AgentOptions;
  readonly #source: GitSource;
  readonly #runners = new Map<string, EnvironmentRunner>();
  readonly #notifiers = new Map<string, Notifier>();
  #state: AgentState;
  #writing: Promise<unknown> = Promise.resolve();
  readonly #timers = new Set<NodeJS.Timeout>();
  #beatTimer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #beatAgain = false;
  #syncing: Promise<boolean> | undefined;
  #syncAgain = false;
  #failures = 0;
  /** the commit the last sync read without a problem */
  #appliedSync: string | undefined;
  #stopped = false;

  private constructor(o: AgentOptions, source: GitSource, state: AgentState) {
    this.#o = o;
    this.#source = source;
    this.#state = state;
    for (const name of o.environments) {
      this.#runners.set(
        name,
        new EnvironmentRunner({
          name,
          dir: path.join(o.stateDir, 'workers', name),
          cairn: o.cairn,
          ...(o.childEnv === undefined ? {} : { childEnv: o.childEnv }),
          logger: o.logger.child({ environment: name }),
          metrics: this.metrics,
          state: () => this.#env(name),
          save: (update) => this.#save(name, update),
          event: (e, action) => {
            this.#event(name, e, action);
          },
        }),
      );
    }
  }

  static async open(o: AgentOptions): Promise<Agent> {
    await fsp.mkdir(o.stateDir, { recursive: true });
    const state = await readState(path.join(o.stateDir, 'state.json'));
    const source = await GitSource.open({
      url: o.repo,
      branch: o.branch,
      cacheDir: path.join(o.stateDir, 'git'),
    });
    return new Agent(o, source, state);
  }

  /** Which worker answers a model, for the router. */
  get table(): RouteTable {
    return {
      target: (model) => {
        for (const [name, runner] of this.#runners) {
          if (this.#env(name).models[model] !== undefined) return runner.target(model);
        }
        return undefined;
      },
      ready: () =>
        [...this.#runners].every(([name, r]) =>
          Object.keys(this.#env(name).models).every((m) => r.target(m) !== null),
        ),
    };
  }

  status(name: string): EnvironmentStatus {
    return environmentStatus(name, this.#env(name));
  }

  /** Runs until stop(): a sync now and every interval, beats in between. */
  start(): void {
    void this.#syncLoop();
    void this.#beatLoop();
  }

  /** A webhook push: fetch now (after the sync running, if one is). */
  trigger(): void {
    if (this.#syncing !== undefined) this.#syncAgain = true;
    else void this.#syncLoop();
  }

  /** `--once`: one sync, then beats until no rollout is in flight; answers each status. */
  async once(): Promise<EnvironmentStatus[]> {
    await this.#sync();
    for (;;) {
      await this.#beat();
      if (this.#settled()) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return this.#o.environments.map((e) => this.status(e));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await Promise.all([...this.#runners.values()].map((r) => r.stop()));
    await Promise.all([...this.#notifiers.values()].map((n) => n.drain()));
    await this.#writing;
  }

  #settled(): boolean {
    return [...this.#runners].every(([name, runner]) =>
      Object.entries(this.#env(name).models).every(
        ([model, s]) =>
          (s.phase === 'stable' || s.phase === 'suspended') &&
          (runner.target(model) !== null || runner.worker.lastError !== undefined),
      ),
    );
  }

  async #syncLoop(): Promise<void> {
    if (this.#stopped) return;
    const ok = await (this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined;
    }));
    this.#failures = ok ? 0 : this.#failures + 1;
    if (this.#syncAgain) {
      this.#syncAgain = false;
      void this.#syncLoop();
      return;
    }
    // Retries back off from 1 s, never waiting longer than the interval.
    const wait = ok
      ? this.#o.intervalMs
      : Math.min(1000 * 2 ** (this.#failures - 1), this.#o.intervalMs);
    this.#later(() => void this.#syncLoop(), wait);
  }

  async #beatLoop(): Promise<void> {
    if (this.#stopped) return;
    this.#beating = this.#beat().catch((error: unknown) => {
      this.#o.logger.error({ reason: message(error) }, 'reconcile step failed');
    });
    await this.#beating;
    this.#beating = undefined;
    if (this.#beatAgain) {
      this.#beatAgain = false;
      void this.#beatLoop();
      return;
    }
    // Fast while a rollout runs or a fetched commit is not yet recorded as applied (so status
    // turns Synced as soon as the worker serves it), slow once everything is settled.
    const rolling = Object.keys(this.#state.environments).some((name) => {
      const e = this.#env(name);
      return (
        (e.desiredCommit !== undefined && e.appliedCommit !== e.desiredCommit) ||
        Object.values(e.models).some((s) => s.phase !== 'stable')
      );
    });
    // Idle, a beat every 5 s keeps the agent and its workers near zero CPU (drift is put back
    // within 5 s, Argo CD's self-heal default); a sync that changed something wakes it at once.
    this.#beatTimer = this.#later(
      () => {
        this.#beatTimer = undefined;
        void this.#beatLoop();
      },
      rolling ? ROLLING_BEAT_MS : IDLE_BEAT_MS,
    );
  }

  /** A beat now (after the one running, if one is), instead of at the next tick. */
  #wake(): void {
    if (this.#beating !== undefined) {
      this.#beatAgain = true;
      return;
    }
    if (this.#beatTimer === undefined) return; // not started (--once) or stopped
    clearTimeout(this.#beatTimer);
    this.#timers.delete(this.#beatTimer);
    this.#beatTimer = undefined;
    void this.#beatLoop();
  }

  #later(fn: () => void, ms: number): NodeJS.Timeout | undefined {
    if (this.#stopped) return undefined;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  async #beat(): Promise<void> {
    for (const [name, runner] of this.#runners) {
      await runner.step();
      await runner.checkDrift();
      const entry = revisionOutcome(this.#env(name), runner.declared, Date.now());
      if (entry !== undefined) await this.#save(name, (e) => recordRevision(e, entry));
      const s = this.status(name);
      this.metrics.status(name, s.sync === 'Synced', s.health);
    }
  }

  /** Fetches git, reads each environment and pulls its ModelKits; false when anything failed. */
  async #sync(): Promise<boolean> {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let commit: string;
    try {
      commit = await this.#source.fetch();
    } catch (error) {
      this.#appliedSync = undefined; // the next good fetch clears the reason
      for (const name of this.#o.environments) {
        await this.#save(name, (e) => ({ ...e, reason: `git: ${message(error)}` }));
        this.metrics.reconciled(name, elapsed(), false);
      }
      this.#o.logger.warn({ reason: message(error) }, 'git fetch failed; serving what was served');
      return false;
    }
    if (commit === this.#appliedSync) {
      // Nothing new in git and everything read fine last time: a no-op reconcile.
      for (const name of this.#o.environments) this.metrics.reconciled(name, elapsed(), true);
      return true;
    }
    let ok = true;
    const declared = await readDeclared(
      this.#source,
      commit,
      this.#o.environments,
      this.#o.fetchKit,
    );
    for (const { name, desired, reason } of declared) {
      const runner = this.#runners.get(name);
      if (runner !== undefined && desired !== undefined) runner.declared = desired;
      await this.#save(name, (e) => {
        const { reason: _old, ...rest } = e;
        return { ...rest, desiredCommit: commit, ...(reason === undefined ? {} : { reason }) };
      });
      this.metrics.reconciled(name, elapsed(), reason === undefined);
      if (reason !== undefined) {
        ok = false;
        this.#o.logger.warn({ environment: name, commit, reason }, 'environment not applied');
      }
    }
    this.#appliedSync = ok ? commit : undefined;
    this.#wake();
    return ok;
  }

  #env(name: string): EnvironmentState {
    return this.#state.environments[name] ?? emptyEnvironment();
  }

  /** Updates the state in memory at once and writes it (atomically, in order). */
  async #save(name: string, update: (e: EnvironmentState) => EnvironmentState): Promise<void> {
    this.#state = updateEnvironment(this.#state, name, update);
    const file = path.join(this.#o.stateDir, 'state.json');
    const write = this.#writing.then(() => writeState(file, this.#state));
    this.#writing = write.catch(() => undefined);
    await write;
  }

  #event(environment: string, e: Record<string, unknown>, action?: Action): void {
    const record = { at: new Date().toISOString(), environment, ...e };
    const level = e.severity === 'error' ? 'warn' : 'info';
    this.#o.logger[level](record, typeof e.reason === 'string' ? e.reason : 'event');
    const log = path.join(this.#o.stateDir, 'events.jsonl');
    this.#writing = this.#writing.then(() => appendEvent(log, record)).catch(() => undefined);
    const webhook = this.#runners.get(environment)?.declared?.env.notify?.webhook;
    if (action?.type !== 'notify' || webhook === undefined) return;
    let notifier = this.#notifiers.get(webhook);
    if (notifier === undefined) {
      notifier = new Notifier(webhook, {
        onError: (why) => {
          this.#o.logger.warn({ environment, reason: why }, 'notification failed');
        },
      });
      this.#notifiers.set(webhook, notifier);
    }
    notifier.send(toNotification(environment, action.event, new Date()));
  }
}
