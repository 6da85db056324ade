/**
 * `cairn agent` end to end, everything real on loopback: environments in a bare git repository
 * served by `git http-backend`, ModelKits of examples/sklearn (and a `process` scorer) in Debian's
 * `docker-registry`, deploys made with `cairn deploy --push` and announced by signed webhooks,
 * the agent and its `cairn serve` workers as real processes, real inference requests through
 * the agent's router, and `cairn status --env --json` read as the contract describes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHURN_REQUEST,
  SCORER_REQUEST,
  WEBHOOK_SECRET,
  eventually,
  httpText,
  infer,
  modelProcessPids,
  pushHook,
  startAgent,
  status,
  workerPids,
  type Agent,
  type Answer,
  type Status,
} from './agent-driver.js';
import {
  SCORER,
  PYTHON,
  SCORER_COMMAND,
  createWorld,
  environmentText,
  missingTools,
  restartRegistry,
  type EnvRepo,
  type Kit,
  type World,
} from './e2e-fixtures.js';

const missing = missingTools();
const required = process.env.CAIRN_REQUIRE_TOOLS === '1';
if (missing !== undefined && required) throw new Error(`CAIRN_REQUIRE_TOOLS=1 but ${missing}`);

/** Generous: two cores shared with other work; every wait below polls and ends early. */
const WAIT = 90_000;
const SCENARIO = 240_000;

let world: World;
let next = 0;

/** Requests sent without pause by `concurrency` loops, every answer recorded. */
interface Load {
  readonly answers: (Answer & { readonly at: number })[];
  stop(): Promise<void>;
}

function startLoad(url: string, model: string, request: unknown, concurrency = 2): Load {
  const answers: (Answer & { at: number })[] = [];
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const a = await infer(url, model, request);
      answers.push({ ...a, at: Date.now() });
      if (a.status === 0) await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const churnLines = (kit: Kit, rollout: readonly string[] = []) => [
  `modelkit: ${kit.pinned}`,
  ...rollout,
];
/** Fast gates for tests: a check a second, after 10 requests, at most 5% errors. */
const FAST_GATES = [
  'rollout:',
  '  steps:',
  '    - setWeight: 50',
  '    - analysis: {}',
  '  analysis: { interval: 1s, minRequests: 10, maxErrorRate: 5 }',
];

interface Scenario extends AsyncDisposable {
  readonly repo: EnvRepo;
  readonly stateDir: string;
  agent: Agent;
  status(): Promise<Status>;
  /** what the agent last said, for failure messages */
  describe(): Promise<string>;
  /** starts (again) an agent on the same state dir */
  restart(): Promise<Agent>;
}

/** A fresh environments repository whose `prod` declares `models`, and an agent following it. */
async function scenario(models: Record<string, readonly string[]>): Promise<Scenario> {
  const name = `envs-${String(next++)}`;
  const repo = await world.repo(name);
  await repo.write('prod', environmentText('prod', models), 'prod: first declaration');
  const stateDir = world.host.path(`state-${name}`);
  const start = () => startAgent(world.host, { repo: repo.url, envs: ['prod'], stateDir });
  const s: Scenario = {
    repo,
    stateDir,
    agent: await start(),
    status: () => status(world.host, 'prod', stateDir),
    describe: async () => {
      const st = await status(world.host, 'prod', stateDir).catch((e: unknown) => String(e));
      return `status: ${JSON.stringify(st, null, 2)}\n--- agent stdout\n${s.agent.process.stdout()}\n--- agent stderr\n${s.agent.process.stderr().slice(-4000)}`;
    },
    restart: async () => {
      s.agent = await start();
      return s.agent;
    },
    [Symbol.asyncDispose]: async () => {
      // Gracefully first, so the agent stops its workers and they their model processes.
      const timer = setTimeout(() => {
        s.agent.process.kill('SIGKILL');
      }, 15_000);
      await s.agent.stop();
      clearTimeout(timer);
      // Whatever a scenario orphaned on purpose (or the code under test on its own) goes too.
      for (const pid of [...workerPids(stateDir), ...modelProcessPids(stateDir)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
  return s;
}

/** Waits until `model` answers 200 from `version` through the router. */
async function servedBy(s: Scenario, model: string, request: unknown, version: string) {
  return eventually(
    `${model} answered by ${version}`,
    async () => {
      const a = await infer(s.agent.url, model, request);
      return a.status === 200 && a.version === version ? a : undefined;
    },
    WAIT,
    () => s.describe(),
  );
}

/** v1 served first, then a canary of v2 that holds at 50% for an hour. */
async function canaryHeldAt50(s: Scenario, v1: Kit, v2: Kit): Promise<void> {
  await pushHook(s.agent.webhook);
  await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
  await s.repo.deploy('prod', v2.tag, ['--canary', '50:1h']);
  await pushHook(s.agent.webhook);
  await statusWhere(s, 'the canary at 50%', (x) => x.models.churn?.weights[v2.version] === 50);
}

async function statusWhere(s: Scenario, what: string, ok: (st: Status) => boolean) {
  return eventually(
    what,
    async () => {
      const st = await s.status().catch(() => undefined);
      return st !== undefined && ok(st) ? st : undefined;
    },
    WAIT,
    () => s.describe(),
  );
}

const suite = missing === undefined || required ? describe : describe.skip;

suite(`cairn agent end to end${missing === undefined ? '' : ` (skipped: ${missing})`}`, () => {
  beforeAll(async () => {
    world = await createWorld();
  }, 300_000);
  afterAll(async () => {
    await world[Symbol.asyncDispose]();
  });

  it(
    'first deploy serves what git declares; a webhook push replaces it without waiting for the poll',
    async () => {
      const [v1, v2] = world.kits.churn as [Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1) });
      await pushHook(s.agent.webhook);
      const answer = await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      expect(answer.body).toMatchObject({ model_name: 'churn' });
      const head = await s.repo.head();
      const st = await statusWhere(s, 'prod Synced and Healthy', (x) => x.sync === 'Synced');
      expect(st).toMatchObject({
        environment: 'prod',
        live: { commit: head },
        health: 'Healthy',
        models: { churn: { stable: { digest: v1.digest }, weights: { [v1.version]: 100 } } },
      });
      expect((await fetch(`${s.agent.url}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${s.agent.url}/metrics`)).text();
      expect(metrics).toMatch(/^cairn_agent_reconciles_total\{.*\} [1-9]/m);

      // The poll interval is 60 s: only the webhook can make this happen within the wait.
      const started = Date.now();
      await s.repo.deploy('prod', v2.tag);
      expect((await pushHook(s.agent.webhook)).status).toBeLessThan(300);
      await servedBy(s, 'churn', CHURN_REQUEST, v2.version);
      expect(Date.now() - started).toBeLessThan(55_000);
      // v1 is gone: every answer now comes from v2.
      for (let i = 0; i < 20; i++) {
        const a = await infer(s.agent.url, 'churn', CHURN_REQUEST);
        expect([a.status, a.version]).toEqual([200, v2.version]);
      }
      // Two classifiers trained differently answer the same row differently.
      expect(answer.body).not.toEqual((await infer(s.agent.url, 'churn', CHURN_REQUEST)).body);
    },
    SCENARIO,
  );

  it(
    'a canary that passes its gates walks its steps and promotes, without losing a request',
    async () => {
      const [v1, v2] = world.kits.churn as [Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1, FAST_GATES) });
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      const load = startLoad(s.agent.url, 'churn', CHURN_REQUEST);
      try {
        await s.repo.deploy('prod', v2.tag, ['--canary', '30,60']);
        expect(fs.readFileSync(s.repo.checkout.path('environments/prod.yaml'), 'utf8')).toContain(
          'analysis: { interval: 1s, minRequests: 10, maxErrorRate: 5 }',
        );
        await pushHook(s.agent.webhook);
        const during = await statusWhere(
          s,
          'a rollout in progress',
          (x) => x.models.churn?.candidate?.digest === v2.digest && x.health === 'Progressing',
        );
        expect(during.models.churn?.stable?.digest).toBe(v1.digest);
        await statusWhere(
          s,
          'v2 promoted',
          (x) =>
            x.models.churn?.stable?.digest === v2.digest &&
            x.models.churn.candidate === undefined &&
            x.health === 'Healthy' &&
            x.sync === 'Synced',
        );
      } finally {
        await load.stop();
      }
      const versions = new Set(load.answers.map((a) => a.version));
      expect(versions).toEqual(new Set([v1.version, v2.version]));
      expect(load.answers.filter((a) => a.status !== 200)).toEqual([]);
      const st = await s.status();
      expect(st.models.churn?.weights).toEqual({ [v2.version]: 100 });
      expect(JSON.stringify(st.history)).toContain(await s.repo.head());
    },
    SCENARIO,
  );

  it(
    'a canary whose candidate fails half its requests is aborted: all traffic back to stable, Degraded naming the measurement',
    async () => {
      const { scorer, flakyScorer } = world.kits;
      const lines = (kit: Kit) => [
        `modelkit: ${kit.pinned}`,
        'runtime: process',
        `command: ${JSON.stringify(SCORER_COMMAND)}`,
        ...FAST_GATES,
      ];
      await using s = await scenario({ [SCORER]: lines(scorer) });
      await pushHook(s.agent.webhook);
      await servedBy(s, SCORER, SCORER_REQUEST, scorer.version);
      const load = startLoad(s.agent.url, SCORER, SCORER_REQUEST);
      let aborted: Status;
      try {
        await s.repo.deploy('prod', flakyScorer.tag, ['--canary', '50']);
        await pushHook(s.agent.webhook);
        aborted = await statusWhere(
          s,
          'the flaky candidate aborted',
          (x) => x.health === 'Degraded' && x.models[SCORER]?.candidate === undefined,
        );
        // After the abort settles, nothing fails any more and only the stable version answers.
        await new Promise((r) => setTimeout(r, 1500));
        const settled = load.answers.length;
        await new Promise((r) => setTimeout(r, 3000));
        const after = load.answers.slice(settled);
        expect(after.length).toBeGreaterThan(10);
        expect(after.filter((a) => a.status !== 200 || a.version !== scorer.version)).toEqual([]);
      } finally {
        await load.stop();
      }
      // The candidate did take traffic and did fail before the abort.
      expect(load.answers.some((a) => a.status === 500)).toBe(true);
      expect(aborted.reason).toMatch(/error rate/);
      expect(aborted.models[SCORER]).toMatchObject({
        stable: { digest: scorer.digest },
        weights: { [scorer.version]: 100 },
      });
      // The failed revision is remembered, not retried while git does not change.
      await new Promise((r) => setTimeout(r, 3000));
      const later = await s.status();
      expect(later.health).toBe('Degraded');
      expect(later.models[SCORER]?.candidate).toBeUndefined();
    },
    SCENARIO,
  );

  it(
    'a rollback commit converges: the agent serves the earlier digest again and stays Synced',
    async () => {
      const [v1, v2] = world.kits.churn as [Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1) });
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      await s.repo.deploy('prod', v2.tag);
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v2.version);
      const rollback = await s.repo.rollback('prod');
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      const st = await statusWhere(
        s,
        'Synced on the rollback commit',
        (x) => x.sync === 'Synced' && x.live?.commit === rollback,
      );
      expect(st.health).toBe('Healthy');
      expect(st.models.churn?.stable?.digest).toBe(v1.digest);
      // An auto-syncing agent does not undo a rollback: a later sync keeps v1.
      await pushHook(s.agent.webhook);
      await new Promise((r) => setTimeout(r, 2000));
      expect((await infer(s.agent.url, 'churn', CHURN_REQUEST)).version).toBe(v1.version);
    },
    SCENARIO,
  );

  it(
    'kill -9 of the agent mid-rollout: its workers exit, and a restart resumes the rollout at its step or aborts it to stable',
    async () => {
      const [v1, v2] = world.kits.churn as [Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1, FAST_GATES) });
      await canaryHeldAt50(s, v1, v2);
      const workers = workerPids(s.stateDir);
      expect(workers).toHaveLength(1);

      s.agent.kill9();
      await s.agent.process.exited;
      await eventually(
        'the worker to exit with its agent',
        () => Promise.resolve(workerPids(s.stateDir).length === 0 ? true : undefined),
        30_000,
      );

      const agent = await s.restart();
      const load = startLoad(agent.url, 'churn', CHURN_REQUEST);
      let settled: Status;
      try {
        settled = await statusWhere(
          s,
          'the rollout resumed at 50% or aborted to stable',
          (x) =>
            (x.models.churn?.candidate?.digest === v2.digest &&
              x.models.churn.weights[v2.version] === 50 &&
              x.models.churn.weights[v1.version] === 50) ||
            (x.models.churn?.candidate === undefined &&
              x.models.churn?.weights[v1.version] === 100),
        );
        await eventually('answers again', async () =>
          (await infer(agent.url, 'churn', CHURN_REQUEST)).status === 200 ? true : undefined,
        );
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        await load.stop();
      }
      expect(settled.models.churn?.stable?.digest).toBe(v1.digest);
      const answered = new Set(load.answers.filter((a) => a.status === 200).map((a) => a.version));
      const resumed = settled.models.churn?.candidate !== undefined;
      expect(answered).toEqual(resumed ? new Set([v1.version, v2.version]) : new Set([v1.version]));
      // One worker again: the dead agent's worker is not running beside the new one.
      const now = workerPids(s.stateDir);
      expect(now).toHaveLength(1);
      expect(now).not.toEqual(workers);
    },
    SCENARIO,
  );

  it(
    'kill -9 of the agent mid-rollout while git moves on: the restart follows the new commit and never serves the undeclared canary',
    async () => {
      const [v1, v2, v3] = world.kits.churn as [Kit, Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1, FAST_GATES) });
      await canaryHeldAt50(s, v1, v2);
      await servedBy(s, 'churn', CHURN_REQUEST, v2.version);
      expect(workerPids(s.stateDir).length).toBeGreaterThan(0);

      s.agent.kill9();
      await s.agent.process.exited;
      await eventually(
        'the workers to exit with their agent',
        () => Promise.resolve(workerPids(s.stateDir).length === 0 ? true : undefined),
        30_000,
      );
      expect((await infer(s.agent.url, 'churn', CHURN_REQUEST)).status).toBe(0);

      // While the agent is down git moves on: v3 replaces the canary.
      const v3Commit = await s.repo.deploy('prod', v3.tag, ['--canary', '50:1h']);
      const agent = await s.restart();
      const load = startLoad(agent.url, 'churn', CHURN_REQUEST);
      try {
        await pushHook(agent.webhook);
        await statusWhere(
          s,
          'the restarted agent on the new commit',
          (x) => x.live?.commit === v3Commit || x.desired?.commit === v3Commit,
        );
        await servedBy(s, 'churn', CHURN_REQUEST, v3.version);
      } finally {
        await load.stop();
      }
      const st = await s.status();
      expect(st.models.churn?.stable?.digest).toBe(v1.digest);
      expect(st.models.churn?.candidate?.digest).toBe(v3.digest);
      // v2 is no longer declared by git once the restarted agent has seen v3's commit.
      const seenV3 = load.answers.findIndex((a) => a.version === v3.version);
      expect(seenV3).toBeGreaterThanOrEqual(0);
      const afterV3 = load.answers.slice(seenV3);
      expect(afterV3.filter((a) => a.version === v2.version)).toEqual([]);
      expect(
        load.answers.filter(
          (a) => a.status === 200 && ![v1, v2, v3].some((k) => k.version === a.version),
        ),
      ).toEqual([]);
      expect(workerPids(s.stateDir)).toHaveLength(1);
    },
    SCENARIO,
  );

  it(
    'a worker killed by hand is restarted and the environment serves again',
    async () => {
      const [v1] = world.kits.churn as [Kit];
      await using s = await scenario({ churn: churnLines(v1) });
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      const [pid] = workerPids(s.stateDir);
      expect(pid).toBeDefined();
      process.kill(pid ?? 0, 'SIGKILL');
      const replaced = await eventually(
        'a new worker',
        () => {
          const now = workerPids(s.stateDir);
          return Promise.resolve(now.length === 1 && now[0] !== pid ? now[0] : undefined);
        },
        WAIT,
        () => s.describe(),
      );
      expect(replaced).not.toBe(pid);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      await statusWhere(s, 'Healthy again', (x) => x.health === 'Healthy');
      const metrics = await (await fetch(`${s.agent.url}/metrics`)).text();
      expect(metrics).toMatch(/^cairn_agent_drift_corrections_total\{.*\} [1-9]/m);
    },
    SCENARIO,
  );

  // The process runtime starts each model server in a process group of its own; a watchdog in
  // that group ends it when the worker dies, even by SIGKILL (serve, cc90ac6).
  it(
    'a process-model worker killed by hand leaves no model server behind',
    async () => {
      const { scorer } = world.kits;
      await using s = await scenario({
        [SCORER]: [
          `modelkit: ${scorer.pinned}`,
          'runtime: process',
          `command: ${JSON.stringify(SCORER_COMMAND)}`,
        ],
      });
      await pushHook(s.agent.webhook);
      await servedBy(s, SCORER, SCORER_REQUEST, scorer.version);
      const [worker] = workerPids(s.stateDir);
      const models = modelProcessPids(s.stateDir, PYTHON);
      expect(models).toHaveLength(1);
      process.kill(worker ?? 0, 'SIGKILL');
      await eventually(
        'a new worker and model server',
        () => {
          const now = modelProcessPids(s.stateDir, PYTHON);
          return Promise.resolve(
            workerPids(s.stateDir).some((w) => w !== worker) && now.some((m) => !models.includes(m))
              ? now
              : undefined,
          );
        },
        WAIT,
        () => s.describe(),
      );
      await servedBy(s, SCORER, SCORER_REQUEST, scorer.version);
      await eventually(
        "the killed worker's model server to be gone",
        () =>
          Promise.resolve(
            modelProcessPids(s.stateDir, PYTHON).some((m) => models.includes(m)) ? undefined : true,
          ),
        15_000,
      );
    },
    SCENARIO,
  );

  it(
    'a weight changed by hand through the worker admin route is put back and counted as drift',
    async () => {
      const [v1, v2] = world.kits.churn as [Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1, FAST_GATES) });
      await canaryHeldAt50(s, v1, v2);
      const state = JSON.parse(fs.readFileSync(path.join(s.stateDir, 'state.json'), 'utf8')) as {
        environments: { prod?: { worker?: { url: string } } };
      };
      const worker = state.environments.prod?.worker?.url;
      expect(worker).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const route = `${worker ?? ''}/v2/admin/models/churn/traffic`;
      const live = async () => {
        const res = await fetch(route);
        return JSON.stringify(await res.json());
      };
      const put = await fetch(route, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ weights: { [v1.version]: 0, [v2.version]: 100 } }),
      });
      expect(put.status).toBe(200);
      await eventually(
        'the declared 50/50 put back',
        async () => {
          const now = await live();
          return now.includes(`"${v1.version}":50`) && now.includes(`"${v2.version}":50`)
            ? now
            : undefined;
        },
        WAIT,
        () => s.describe(),
      );
      const metrics = await httpText(`${s.agent.url}/metrics`);
      expect(metrics).toMatch(/^cairn_agent_drift_corrections_total\{.*\} [1-9]/m);
    },
    SCENARIO,
  );

  it(
    'a webhook with a bad signature is a 401 and triggers nothing; the secret never reaches the output',
    async () => {
      const [v1, v2] = world.kits.churn as [Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1) });
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      const before = (
        await statusWhere(s, 'v1 recorded as live', (x) => typeof x.live?.commit === 'string')
      ).live?.commit;
      expect(before).toMatch(/^[0-9a-f]{40}$/);
      await s.repo.deploy('prod', v2.tag);

      const forged = await pushHook(s.agent.webhook, { signature: `sha256=${'0'.repeat(64)}` });
      expect(forged.status).toBe(401);
      const unsigned = await fetch(s.agent.webhook, { method: 'POST', body: '{}' });
      expect(unsigned.status).toBe(401);
      const gitlab = await fetch(s.agent.webhook, {
        method: 'POST',
        headers: { 'x-gitlab-token': 'not-the-secret' },
        body: '{}',
      });
      expect(gitlab.status).toBe(401);
      await new Promise((r) => setTimeout(r, 3000));
      expect((await s.status()).live?.commit).toBe(before);
      expect((await infer(s.agent.url, 'churn', CHURN_REQUEST)).version).toBe(v1.version);

      const gitlabOk = await fetch(s.agent.webhook, {
        method: 'POST',
        headers: { 'x-gitlab-token': WEBHOOK_SECRET, 'x-gitlab-event': 'Push Hook' },
        body: '{}',
      });
      expect(gitlabOk.status).toBeLessThan(300);
      await servedBy(s, 'churn', CHURN_REQUEST, v2.version);
      const output = s.agent.process.stdout() + s.agent.process.stderr();
      expect(output).not.toContain(WEBHOOK_SECRET);
      const state = fs.readFileSync(path.join(s.stateDir, 'state.json'), 'utf8');
      expect(state).not.toContain(WEBHOOK_SECRET);
    },
    SCENARIO,
  );

  it(
    'the registry stopped during a rollout: the stable version keeps serving, status names the reason, and the rollout completes once it is back',
    async () => {
      const [v1, , v3] = world.kits.churn as [Kit, Kit, Kit];
      await using s = await scenario({ churn: churnLines(v1, FAST_GATES) });
      await pushHook(s.agent.webhook);
      await servedBy(s, 'churn', CHURN_REQUEST, v1.version);
      await s.repo.deploy('prod', v3.tag, ['--canary', '50:1s']);
      await world.registry.stop();
      let stopRegistry: (() => Promise<void>) | undefined;
      const load = startLoad(s.agent.url, 'churn', CHURN_REQUEST);
      try {
        await pushHook(s.agent.webhook);
        const degraded = await statusWhere(
          s,
          'a reason naming the registry',
          (x) =>
            x.health !== 'Healthy' &&
            new RegExp(`${world.registry.host}|registry|ECONNREFUSED|connect`, 'i').test(
              x.reason ?? '',
            ),
        );
        expect(degraded.models.churn?.stable?.digest).toBe(v1.digest);
        await new Promise((r) => setTimeout(r, 2000));
        const outage = load.answers.slice();
        expect(outage.length).toBeGreaterThan(10);
        expect(outage.filter((a) => a.status !== 200 || a.version !== v1.version)).toEqual([]);

        stopRegistry = await restartRegistry(world.registry);
        await statusWhere(
          s,
          'v3 promoted after the registry returned',
          (x) => x.models.churn?.stable?.digest === v3.digest && x.health === 'Healthy',
        );
        await servedBy(s, 'churn', CHURN_REQUEST, v3.version);
      } finally {
        await load.stop();
        // Later tests (and the world's dispose) expect the harness's own registry process.
        if (stopRegistry !== undefined) await stopRegistry();
      }
      expect(load.answers.filter((a) => a.status !== 200)).toEqual([]);
    },
    SCENARIO,
  );
});
