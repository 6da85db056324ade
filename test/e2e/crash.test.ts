/**
 * Crash safety: `add`, `checkout` and `gc --force` are killed with SIGKILL at seeded random
 * moments across their runtime, then run again to completion. Nothing may be torn, lost or
 * left behind. Set E2E_SEED to replay a run, E2E_KILLS to kill more often.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import {
  badCacheObjects,
  cacheObjects,
  createSandbox,
  describeRun,
  deterministicBytes,
  digestsOf,
  dirMd5,
  dvcTextForDir,
  fileDigests,
  md5,
  prng,
  smallFiles,
  writeTree,
  type Sandbox,
  type Tree,
} from './helpers.js';

const SEED = Number(process.env.E2E_SEED ?? 20_251_123);
const KILLS = Number(process.env.E2E_KILLS ?? 15);
const MiB = 1024 * 1024;

/** ~2,000 small files and one 48 MiB file: both the inline and the streaming paths run. */
function workload(): Tree {
  return { ...smallFiles(2000), 'big.bin': deterministicBytes(48 * MiB, SEED) };
}

interface CrashPlan {
  s: Sandbox;
  args: string[];
  /** puts the repository back in the state the command starts from */
  reset(): void | Promise<void>;
  /** checks right after a kill, before anything runs again */
  afterKill(where: string): void;
  /** checks once the command has been run again to completion */
  afterRerun(where: string): Promise<void>;
}

interface CrashStats {
  cleanMs: number;
  kills: number;
  attempts: number;
  /** ms spent in each phase, summed over attempts */
  phases: Record<string, number>;
}

/**
 * Kills the command at uniformly spread moments of a clean run's duration until it has been
 * killed KILLS times mid-flight. A run that finishes before its kill still goes through the
 * checks, and makes later delays shorter.
 */
async function killRepeatedly(plan: CrashPlan, seed: number): Promise<CrashStats> {
  const { s, args } = plan;
  const random = prng(seed);
  const phases: Record<string, number> = {};
  const timed = async <T>(phase: string, body: () => T | Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await body();
    } finally {
      phases[phase] = (phases[phase] ?? 0) + Date.now() - t0;
    }
  };
  // Two clean runs: the first also meets freshly written data and a cold page cache, so the
  // second is the better measure of how long the command runs.
  let clean = 0;
  for (const run of ['first', 'second']) {
    await plan.reset();
    clean = (await s.cairnOk(args)).ms;
    await plan.afterRerun(`${run} clean run, seed ${seed}`);
  }
  let estimate = clean;
  let kills = 0;
  let attempts = 0;
  while (kills < KILLS && attempts < KILLS * 3) {
    attempts += 1;
    await timed('reset', () => plan.reset());
    const delay = Math.round(estimate * (0.05 + 0.95 * random()));
    const where = `seed ${seed}, attempt ${attempts}, kill after ${delay} ms of ~${Math.round(estimate)} ms`;
    const killed = await timed('killed run', async () => {
      const child = s.spawnCairn(args);
      await sleep(delay);
      child.kill('SIGKILL');
      return child.exited;
    });
    if (killed.signal === 'SIGKILL') kills += 1;
    else {
      expect(killed.code, `${where}: ${describeRun(args, killed)}`).toBe(0);
      estimate = Math.min(estimate * 0.85, killed.ms);
    }
    await timed('checks after kill', () => {
      plan.afterKill(where);
    });

    const rerun = await timed('re-run', () => s.cairn(args));
    expect(rerun.code, `${where}, re-run: ${describeRun(args, rerun)}`).toBe(0);
    const fsck = await timed('fsck', () => s.cairn(['fsck', '--json']));
    expect(fsck.code, `${where}, fsck: ${describeRun(['fsck'], fsck)}`).toBe(0);
    expect((JSON.parse(fsck.stdout) as { corrupt: unknown[] }).corrupt, where).toEqual([]);
    await timed('checks after re-run', () => plan.afterRerun(where));
  }
  expect(kills, `only ${kills} of ${attempts} runs were killed before they finished`).toBe(KILLS);
  return { cleanMs: clean, kills, attempts, phases };
}

const cacheDir = (s: Sandbox): string => s.path('.cairn/cache');

function objectNames(s: Sandbox): string[] {
  return cacheObjects(cacheDir(s))
    .map((o) => o.name)
    .sort();
}

/** Object names a tree's add stores: each distinct content, plus its `.dir` manifest. */
function objectsOf(tree: Tree): string[] {
  return [...new Set([...Object.values(tree).map((c) => md5(c)), dirMd5(tree)])].sort();
}

async function expectCleanStatus(s: Sandbox, where: string): Promise<void> {
  const r = await s.cairn(['status', '--json']);
  expect(r.code, `${where}: ${describeRun(['status'], r)}`).toBe(0);
  expect(JSON.parse(r.stdout), `${where}: status`).toEqual({});
}

function report(name: string, stats: CrashStats, started: number): void {
  const phases = Object.entries(stats.phases)
    .map(([p, ms]) => `${p} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
  console.log(
    `${name}: clean run ${stats.cleanMs} ms; ${stats.kills} kills in ${stats.attempts} attempts; ${Math.round((Date.now() - started) / 1000)} s in all (${phases}; seed ${SEED})`,
  );
}

describe('a command killed at any moment leaves a repository that the same command completes', () => {
  test('add of 2,000 small files and a 48 MiB file', async () => {
    const started = Date.now();
    await using s = await createSandbox();
    const tree = workload();
    await writeTree(s.path('data'), tree);
    const wantDvc = dvcTextForDir('data', tree);
    const wantFiles = digestsOf(tree);
    const wantObjects = objectsOf(tree);

    const stats = await killRepeatedly(
      {
        s,
        args: ['add', 'data'],
        reset: async () => {
          await fsp.rm(cacheDir(s), { recursive: true, force: true });
          await fsp.rm(s.path('.cairn/tmp/index'), { recursive: true, force: true });
          await fsp.rm(s.path('data.dvc'), { force: true });
          await fsp.rm(s.path('.gitignore'), { force: true });
        },
        afterKill: (where) => {
          expect(badCacheObjects(cacheDir(s)), `${where}: torn cache objects`).toEqual([]);
          expect(fileDigests(s.path('data')), `${where}: the data itself`).toEqual(wantFiles);
        },
        afterRerun: async (where) => {
          expect(await fsp.readFile(s.path('data.dvc'), 'utf8'), where).toBe(wantDvc);
          expect(await fsp.readFile(s.path('.gitignore'), 'utf8'), where).toBe('/data\n');
          expect(fileDigests(s.path('data')), `${where}: workspace`).toEqual(wantFiles);
          expect(objectNames(s), `${where}: cache objects`).toEqual(wantObjects);
        },
      },
      SEED,
    );
    await expectCleanStatus(s, 'after the last add');
    report('add', stats, started);
  }, 240_000);

  test('checkout of a deleted workspace copy', async () => {
    const started = Date.now();
    await using s = await createSandbox();
    const tree = workload();
    await writeTree(s.path('data'), tree);
    await s.cairnOk(['add', 'data']);
    const wantDvc = dvcTextForDir('data', tree);
    const wantFiles = digestsOf(tree);

    const stats = await killRepeatedly(
      {
        s,
        args: ['checkout'],
        reset: () => fsp.rm(s.path('data'), { recursive: true, force: true }),
        afterKill: (where) => {
          expect(badCacheObjects(cacheDir(s)), `${where}: torn cache objects`).toEqual([]);
          // whatever is there already is whole, and nothing else is
          const present = fs.existsSync(s.path('data')) ? fileDigests(s.path('data')) : {};
          for (const [rel, digest] of Object.entries(present)) {
            expect(digest, `${where}: data/${rel} is torn or foreign`).toBe(wantFiles[rel]);
          }
        },
        afterRerun: async (where) => {
          expect(fileDigests(s.path('data')), `${where}: workspace`).toEqual(wantFiles);
          expect(await fsp.readFile(s.path('data.dvc'), 'utf8'), where).toBe(wantDvc);
        },
      },
      SEED + 1,
    );
    await expectCleanStatus(s, 'after the last checkout');
    report('checkout', stats, started);
  }, 240_000);

  test('gc --force with thousands of unreferenced objects', async () => {
    const started = Date.now();
    await using s = await createSandbox();
    const kept = smallFiles(300, 'kept-');
    await writeTree(s.path('data'), kept);
    await s.cairnOk(['add', 'data']);
    const keptObjects = objectsOf(kept);
    const wantDvc = await fsp.readFile(s.path('data.dvc'), 'utf8');

    // garbage: objects `cairn add` really wrote, for data no .dvc file names any more
    await writeTree(s.path('junk'), smallFiles(3000, 'junk-'));
    await s.cairnOk(['add', 'junk']);
    // Keep a second name for each garbage object outside the cache, so that putting them back
    // is a cheap hard link rather than thousands of writes.
    const pristine = path.join(s.dir, 'garbage');
    fs.mkdirSync(pristine);
    const garbage: string[] = [];
    for (const o of cacheObjects(cacheDir(s))) {
      if (keptObjects.includes(o.name)) continue;
      fs.linkSync(o.path, path.join(pristine, o.name));
      garbage.push(o.name);
    }
    expect(garbage.length).toBeGreaterThan(3000);
    await fsp.rm(s.path('junk'), { recursive: true });
    await fsp.rm(s.path('junk.dvc'));
    await fsp.writeFile(s.path('.gitignore'), '/data\n');
    const wantFiles = digestsOf(kept);
    const objectPath = (name: string): string =>
      path.join(cacheDir(s), 'files', 'md5', name.slice(0, 2), name.slice(2));

    const stats = await killRepeatedly(
      {
        s,
        args: ['gc', '--force'],
        reset: () => {
          for (const name of garbage) {
            const p = objectPath(name);
            if (fs.existsSync(p)) continue;
            fs.mkdirSync(path.dirname(p), { recursive: true });
            fs.linkSync(path.join(pristine, name), p);
          }
        },
        afterKill: (where) => {
          expect(badCacheObjects(cacheDir(s)), `${where}: torn cache objects`).toEqual([]);
          const names = new Set(objectNames(s));
          expect(
            keptObjects.filter((n) => !names.has(n)),
            `${where}: referenced objects removed`,
          ).toEqual([]);
        },
        afterRerun: async (where) => {
          expect(objectNames(s), `${where}: cache objects`).toEqual(keptObjects);
          expect(fileDigests(s.path('data')), `${where}: workspace`).toEqual(wantFiles);
          expect(await fsp.readFile(s.path('data.dvc'), 'utf8'), where).toBe(wantDvc);
        },
      },
      SEED + 2,
    );
    await expectCleanStatus(s, 'after the last gc');
    report('gc', stats, started);
  }, 240_000);
});
