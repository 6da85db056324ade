// agent: `cairn agent` against issue 11's speed targets, in the end-to-end tests' world
// (test/deploy/e2e-fixtures.ts: Debian's docker-registry, environments served by git
// http-backend, ModelKits of examples/sklearn and a process scorer; bundled here with esbuild):
// - agent-push:  `git push` of a deploy commit → the new version answering, with the webhook
//                (<= 3 s); Argo CD's 180 s and Flux's 60 s default polls are the peers.
// - agent-idle:  CPU of an idle agent following 3 environments, agent + workers from
//                /proc/PID/stat: the first 30 s after all three answer (start-up tail), then the
//                next 30 s, the steady idle state the target is about (<= 1% of a core).
// - agent-noop:  a webhook-triggered reconcile that changes nothing, from the agent's
//                cairn_agent_reconcile_duration_seconds (<= 100 ms).
// - agent-abort: the failing gate check → the last request answered by the candidate (<= 1 s).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
import { build } from 'esbuild';
import {
  OUT_DIR,
  REPO_ROOT,
  fmtSec,
  log,
  median,
  printTable,
  printTargets,
  runCount,
  start,
  target,
  writeResult,
} from './lib.mjs';

export const description =
  'cairn agent: push→serving with the webhook (<=3 s; Argo CD 180 s, Flux 60 s polls), idle CPU with 3 envs (<=1%), no-op reconcile (<=100 ms), canary abort (<=1 s)';

const IDLE_SECONDS = Number(process.env.CAIRN_BENCH_IDLE_SECONDS ?? 30);

/** The e2e fixtures and agent driver, bundled once; bench/out/ is two levels deep like test/deploy/. */
async function fixtures() {
  const outfile = path.join(OUT_DIR, 'agent-fixtures.mjs');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  await build({
    stdin: {
      contents: [
        "export * from './test/deploy/e2e-fixtures.ts';",
        "export * from './test/deploy/agent-driver.ts';",
      ].join('\n'),
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return import(outfile);
}

const churnModel = (kit) => [`modelkit: ${kit.pinned}`];

async function waitFor(f, what, url, model, request, version, timeoutMs = 120_000) {
  return f.eventually(
    what,
    async () => {
      const a = await f.infer(url, model, request);
      return a.status === 200 && a.version === version ? a : undefined;
    },
    timeoutMs,
  );
}

/** One environment repo declaring `models` in `envs`, and an agent following them. */
async function setup(f, world, name, envs) {
  const repo = await world.repo(name);
  for (const [env, models] of Object.entries(envs)) {
    await repo.write(env, f.environmentText(env, models), `${env}: first declaration`);
  }
  const stateDir = world.host.path(`state-${name}`);
  const agent = await f.startAgent(world.host, {
    repo: repo.url,
    envs: Object.keys(envs),
    stateDir,
    // Long polls: only the webhook can make the measured changes happen in time.
    interval: '180s',
  });
  return { repo, agent, stateDir };
}

async function pushBench(f, world, runs) {
  const [v1, v2] = world.kits.churn;
  const { repo, agent } = await setup(f, world, 'bench-push', { prod: { churn: churnModel(v1) } });
  await f.pushHook(agent.webhook);
  await waitFor(f, 'v1', agent.url, 'churn', f.CHURN_REQUEST, v1.version);
  const samples = [];
  const plain = { env: { CAIRN_REGISTRY_PLAIN_HTTP: '1' } };
  for (let i = 0; i < runs; i++) {
    const kit = i % 2 === 0 ? v2 : v1;
    // The deploy commit is made first; the clock starts at `git push`.
    await repo.checkout.cairnOk(['deploy', 'prod', kit.tag], plain);
    const t0 = performance.now();
    await repo.checkout.git(['push', '-q', 'origin', 'main']);
    await f.pushHook(agent.webhook); // what GitHub does once the push is in
    await f.eventually(
      `${kit.version} answering`,
      async () => {
        const a = await f.infer(agent.url, 'churn', f.CHURN_REQUEST);
        return a.status === 200 && a.version === kit.version ? a : undefined;
      },
      60_000,
    );
    samples.push((performance.now() - t0) / 1000);
    log(`   run ${i + 1}: ${fmtSec(samples.at(-1))}`);
  }
  await agent.stop();
  return samples;
}

function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

async function idleBench(f, world) {
  const [v1, v2, v3] = world.kits.churn;
  const { agent, stateDir } = await setup(f, world, 'bench-idle', {
    prod: { churn: churnModel(v1) },
    staging: { 'churn-staging': churnModel(v2) },
    dev: { 'churn-dev': churnModel(v3) },
  });
  await f.pushHook(agent.webhook);
  await waitFor(f, 'prod', agent.url, 'churn', f.CHURN_REQUEST, v1.version);
  await waitFor(f, 'staging', agent.url, 'churn-staging', f.CHURN_REQUEST, v2.version);
  await waitFor(f, 'dev', agent.url, 'churn-dev', f.CHURN_REQUEST, v3.version);
  const pids = [agent.process.pid, ...f.workerPids(stateDir)];
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  // Two windows back to back from the moment all three answer: the first still holds each
  // Node process's start-up tail (V8's memory reducer runs its GCs there), the second is the
  // steady idle state the target is about.
  const window = async () => {
    const before = pids.map(cpuTicks);
    const t0 = performance.now();
    await sleep(IDLE_SECONDS * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const after = pids.map(cpuTicks);
    const processes = pids.map((pid, i) => ({
      pid,
      role: i === 0 ? 'agent' : 'worker',
      percent: ((after[i] - before[i]) / hz / seconds) * 100,
    }));
    return { seconds, processes, percent: processes.reduce((a, p) => a + p.percent, 0) };
  };
  const warmup = await window();
  const steady = await window();
  await agent.stop();
  return { ...steady, warmup };
}

function histogram(metrics, name) {
  const sum = new RegExp(`^${name}_sum(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  const count = new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  const total = (re) => [...metrics.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return { sum: total(sum), count: total(count) };
}

async function noopBench(f, world, runs) {
  const [v1] = world.kits.churn;
  const { agent, repo } = await setup(f, world, 'bench-noop', { prod: { churn: churnModel(v1) } });
  await f.pushHook(agent.webhook);
  await waitFor(f, 'v1', agent.url, 'churn', f.CHURN_REQUEST, v1.version);
  await sleep(2000);
  const read = async () =>
    histogram(await f.httpText(`${agent.url}/metrics`), 'cairn_agent_reconcile_duration_seconds');
  const samples = [];
  const wall = [];
  for (let i = 0; i < runs; i++) {
    const before = await read();
    const t0 = performance.now();
    await f.pushHook(agent.webhook);
    const after = await f.eventually(
      'a reconcile',
      async () => {
        const h = await read();
        return h.count > before.count ? h : undefined;
      },
      30_000,
    );
    wall.push((performance.now() - t0) / 1000);
    samples.push((after.sum - before.sum) / (after.count - before.count));
  }
  await agent.stop();
  // The floor under any no-op: one shallow `git fetch` over the same http-backend that finds
  // nothing new.
  const mirror = world.host.path('bench-noop-mirror.git');
  await world.host.exec('git', ['clone', '-q', '--bare', '--depth', '1', repo.url, mirror]);
  const fetches = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await world.host.exec('git', [
      '--git-dir',
      mirror,
      'fetch',
      '-q',
      '--depth',
      '1',
      'origin',
      'main',
    ]);
    if (r.code !== 0) throw new Error(`git fetch failed: ${r.stderr}`);
    fetches.push((performance.now() - t0) / 1000);
  }
  return { samples, wall, fetches };
}

async function abortBench(f, world, runs) {
  const { scorer, flakyScorer } = world.kits;
  const model = (kit) => [
    `modelkit: ${kit.pinned}`,
    'runtime: process',
    `command: ${JSON.stringify(f.SCORER_COMMAND)}`,
    'rollout:',
    '  steps: [{ setWeight: 50 }, { analysis: {} }]',
    '  analysis: { interval: 1s, minRequests: 10, maxErrorRate: 5 }',
  ];
  const { repo, agent, stateDir } = await setup(f, world, 'bench-abort', {
    prod: { [f.SCORER]: model(scorer) },
  });
  await f.pushHook(agent.webhook);
  await waitFor(f, 'scorer', agent.url, f.SCORER, f.SCORER_REQUEST, scorer.version);
  const samples = [];
  let lastAt = 0;
  for (let i = 0; i < runs; i++) {
    const answers = [];
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const sent = Date.now();
        const a = await f.infer(agent.url, f.SCORER, f.SCORER_REQUEST);
        answers.push({ sent, version: a.version });
      }
    });
    // A new commit each run (the weight differs), so the failed revision is tried again.
    await repo.deploy('prod', flakyScorer.tag, ['--canary', String(50 - i)]);
    await f.pushHook(agent.webhook);
    const failing = await f.eventually(
      'the failing check',
      async () => {
        const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
        const checks = state.environments.prod?.analysis?.[f.SCORER] ?? [];
        const failed = checks.filter((c) => !c.passed && c.version === flakyScorer.version);
        const mine = failed.at(-1);
        const aborted = state.environments.prod?.models?.[f.SCORER]?.candidate === undefined;
        return mine !== undefined && aborted && mine.at > lastAt ? mine : undefined;
      },
      120_000,
    );
    await sleep(2000);
    running = false;
    await Promise.all(loops);
    lastAt = failing.at;
    const lastCandidate = answers
      .filter((a) => a.version === flakyScorer.version)
      .reduce((m, a) => Math.max(m, a.sent), 0);
    const latency = Math.max(0, lastCandidate - failing.at) / 1000;
    samples.push(latency);
    log(`   run ${i + 1}: last candidate request ${fmtSec(latency)} after the failing check`);
    // Back to the healthy scorer for the next run.
    await repo.deploy('prod', scorer.tag, ['--canary', String(50 - i)]).catch(() => undefined);
    await f.pushHook(agent.webhook);
    await waitFor(f, 'scorer', agent.url, f.SCORER, f.SCORER_REQUEST, scorer.version);
  }
  await agent.stop();
  return samples;
}

export async function run() {
  const which = new URL(import.meta.url).searchParams.get('name') ?? 'all';
  const loadBefore = start(`agent (${which})`, description);
  const f = await fixtures();
  const missing = f.missingTools();
  if (missing !== undefined) {
    log(`   skipped: ${missing}`);
    return;
  }
  const world = await f.createWorld();
  const targets = [];
  const result = {};
  try {
    if (which === 'all' || which === 'agent-push') {
      const s = await pushBench(f, world, runCount(5));
      result.push_seconds = s;
      printTable([
        ['push → new version answering', 'median', 'max'],
        ['cairn agent, webhook', fmtSec(median(s)), fmtSec(Math.max(...s))],
        ['Argo CD, default 180 s poll', '90 s avg', '180 s'],
        ['Flux, default 60 s interval', '30 s avg', '60 s'],
      ]);
      targets.push(target('push → serving (median)', median(s), '<=', 3, 's'));
    }
    if (which === 'all' || which === 'agent-idle') {
      const idle = await idleBench(f, world);
      result.idle = idle;
      printTable([
        [
          'process',
          'pid',
          `first ${IDLE_SECONDS} s, % of a core`,
          `next ${IDLE_SECONDS} s (steady)`,
        ],
        ...idle.processes.map((p, i) => [
          p.role,
          p.pid,
          idle.warmup.processes[i].percent.toFixed(3),
          p.percent.toFixed(3),
        ]),
        ['total', '', idle.warmup.percent.toFixed(3), idle.percent.toFixed(3)],
      ]);
      targets.push(
        target(`idle CPU, 3 envs, steady ${IDLE_SECONDS} s`, idle.percent, '<=', 1, '%'),
      );
    }
    if (which === 'all' || which === 'agent-noop') {
      const { samples, wall, fetches } = await noopBench(f, world, runCount(20));
      result.noop_seconds = samples;
      result.noop_webhook_to_metric_seconds = wall;
      result.noop_git_fetch_seconds = fetches;
      printTable([
        ['no-op reconcile', 'median', 'max'],
        ['reconcile duration (metric)', fmtSec(median(samples)), fmtSec(Math.max(...samples))],
        ['webhook → reconcile counted', fmtSec(median(wall)), fmtSec(Math.max(...wall))],
        ['git fetch, nothing new (floor)', fmtSec(median(fetches)), fmtSec(Math.max(...fetches))],
      ]);
      targets.push(target('no-op reconcile (median)', median(samples), '<=', 0.1, 's'));
    }
    if (which === 'all' || which === 'agent-abort') {
      const s = await abortBench(f, world, runCount(3));
      result.abort_seconds = s;
      targets.push(target('failing check → 100% stable (max)', Math.max(...s), '<=', 1, 's'));
    }
  } finally {
    await world[Symbol.asyncDispose]();
  }
  printTargets(targets);
  writeResult(which === 'all' ? 'agent' : which, { loadBefore, ...result, targets });
}
