import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, test } from 'vitest';
import { CairnError } from '../core/errors.js';
import { initialState } from './rollout.js';
import {
  appendEvent,
  eventLogPath,
  readEvents,
  readState,
  recordRevision,
  updateEnvironment,
  writeState,
  type AgentState,
} from './state.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-state-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
const DIGEST = `reg.local/acme/churn@sha256:${'b'.repeat(64)}`;

async function rejection(p: Promise<unknown>): Promise<CairnError> {
  const error: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof CairnError) return error;
  throw new Error(`expected a CairnError, got ${String(error)}`);
}

describe('agent state file', () => {
  test('a missing file reads as an empty state', async () => {
    expect(await readState(path.join(dir, 'never.json'))).toEqual({ schema: 1, environments: {} });
  });

  test('a rollout in flight is written and read back unchanged', async () => {
    const file = path.join(dir, 'agent.json');
    const model = {
      ...initialState(),
      stable: 'a',
      candidate: DIGEST,
      phase: 'progressing' as const,
      step: 2,
      candidateWeight: 25,
    };
    const state = updateEnvironment(await readState(file), 'prod', (e) => ({
      ...recordRevision(e, { commit: 'c1', at: 5, result: 'progressing' }),
      models: { churn: model },
    }));
    await writeState(file, state);
    expect(await readState(file)).toEqual(state);
    expect(state.environments.prod).toMatchObject({ attemptedCommit: 'c1' });
    expect(state.environments.prod?.appliedCommit).toBeUndefined();
  });

  test('history keeps the 10 newest revisions, newest first; only applied ones move appliedCommit', () => {
    let state: AgentState = { schema: 1, environments: {} };
    for (let i = 1; i <= 12; i++) {
      state = updateEnvironment(state, 'prod', (e) =>
        recordRevision(e, {
          commit: `c${String(i)}`,
          at: i,
          result: i === 12 ? 'failed' : 'applied',
        }),
      );
    }
    const prod = state.environments.prod;
    expect(prod?.history.map((h) => h.commit)).toEqual(
      [12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map((i) => `c${String(i)}`),
    );
    expect(prod).toMatchObject({ appliedCommit: 'c11', attemptedCommit: 'c12' });
  });

  test('a state from a newer cairn is refused, saying so', async () => {
    const file = path.join(dir, 'future.json');
    fs.writeFileSync(file, JSON.stringify({ schema: 7, environments: {}, rings: [] }));
    const error = await rejection(readState(file));
    expect(error.code).toBe('state-version');
    expect(error.message).toBe(`${file}: state schema 7, this cairn reads schema 1`);
    expect(error.hint).toMatch(/newer cairn wrote it/);
  });

  test('a file that is not JSON, or not a state, is a clear error', async () => {
    const file = path.join(dir, 'junk.json');
    fs.writeFileSync(file, '{"schema": 1, "environ');
    expect((await rejection(readState(file))).message).toMatch(/junk\.json: not JSON/);
    fs.writeFileSync(file, '[1, 2]');
    expect((await rejection(readState(file))).message).toMatch(/no schema field/);
  });

  test('the event log appends, stays bounded and skips a line torn by a crash', async () => {
    const log = eventLogPath(path.join(dir, 'events.json'));
    expect(log).toBe(path.join(dir, 'events.events.jsonl'));
    expect(await readEvents(log)).toEqual([]);
    for (let i = 0; i < 200; i++) await appendEvent(log, { reason: 'RolloutStepPassed', i }, 2000);
    expect(fs.statSync(log).size).toBeLessThanOrEqual(2000);
    fs.appendFileSync(log, '{"reason":"Promo');
    const events = (await readEvents(log)) as { i: number }[];
    expect(events.length).toBeGreaterThan(10);
    expect(events.at(-1)?.i).toBe(199);
    expect(events.map((e) => e.i)).toEqual([...events.map((e) => e.i)].sort((a, b) => a - b));
  });
});

describe('crash safety', () => {
  // A child bundled from the real state.ts writes states of changing size in a tight loop.
  const child = path.join(dir, 'writer.mjs');
  buildSync({
    stdin: {
      contents: `
        import { writeState } from './state.ts';
        const file = process.argv[2];
        let i = 0;
        process.stdout.write('started\\n');
        for (;;) {
          const history = Array.from({ length: (i % 10) + 1 }, (_, k) => ({ commit: 'c'.repeat(40 + k * 500), at: i, result: 'applied' }));
          await writeState(file, { schema: 1, environments: { prod: { models: {}, history } } });
          i++;
        }`,
      resolveDir: path.dirname(fileURLToPath(import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: child,
    logLevel: 'silent',
  });

  test('kill -9 of a process writing states in a loop never leaves an unreadable file', async () => {
    const file = path.join(dir, 'crash.json');
    for (let round = 0; round < 8; round++) {
      const proc = spawn(process.execPath, [child, file], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => proc.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 30 + round * 17));
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
      const state = await readState(file);
      expect(state.environments.prod?.history.length).toBeGreaterThan(0);
    }
  }, 30_000);
});
