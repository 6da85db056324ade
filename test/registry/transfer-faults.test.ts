// Transfers under faults, through the fault-injecting proxy in front of a real registry: resets
// mid-body, truncated bodies, 500s and 429s are retried or resumed and the ModelKit still
// arrives with identical digests; a `kill -9` mid-pull or mid-push followed by the same command
// finishes without moving the completed blobs again.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAIRN } from '../modelkit/helpers.js';
import {
  startFaultProxy,
  startRegistry,
  type FaultProxy,
  type RunningRegistry,
} from './harness.js';
import {
  cli,
  cliJson,
  enabled,
  freshEnv,
  kitDir,
  treeDigests,
  type Env,
  type Transfer,
} from './transfer-helpers.js';

let reg: RunningRegistry | undefined;
beforeAll(async () => {
  if (enabled) reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});
const R = (): RunningRegistry => {
  if (reg === undefined) throw new Error('the registry did not start');
  return reg;
};

/** Starts the CLI without waiting for it; the caller kills it. */
function start(e: Env, args: string[], extra: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CAIRN, ...args], {
    cwd: e.work,
    env: { ...process.env, CAIRN_HOME: e.home, ...e.env, ...extra },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  return { child, exited };
}

/** Polls until `cond` holds (the faults hold the transfer still, so this is not a race). */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const stalled = (p: FaultProxy): boolean => p.requests.some((r) => r.fault === 'stall');

describe.skipIf(!enabled)('transfers under faults', () => {
  it('resets, truncations, 500s and 429s: push and pull still complete with identical digests', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 6 * 1024 * 1024 + 5, 11);
    const proxy = await startFaultProxy(R().url, {
      seed: 5,
      errorRate: 0.1,
      tooManyRate: 0.1,
      resetRate: 0.3,
      truncateRate: 0.2,
      maxFaults: 14,
    });
    try {
      const ref = `${proxy.host}/faults/kit:v1`;
      await cli(a, ['pack', src, '-t', ref]);
      const pushed = await cliJson<Transfer>(a, ['push', ref, '--concurrency', '2'], {
        CAIRN_PUSH_CHUNK_SIZE: String(2 * 1024 * 1024),
      });
      const b = freshEnv();
      const pulled = await cliJson<Transfer>(b, ['pull', ref, '--concurrency', '2']);
      expect(pulled.digest).toBe(pushed.digest);
      expect(proxy.faults()).toBeGreaterThan(3);
      const kinds = new Set(proxy.requests.map((r) => r.fault).filter((f) => f !== undefined));
      expect(kinds.size).toBeGreaterThan(1);
      const out = path.join(b.work, 'out');
      expect((await cli(b, ['unpack', ref, '-d', out])).code).toBe(0);
      expect(treeDigests(out)).toMatchObject({
        'model.bin': treeDigests(src)['model.bin'],
        'data/a.csv': treeDigests(src)['data/a.csv'],
      });
    } finally {
      await proxy.stop();
    }
  });

  it('kill -9 mid-pull, then the same pull: completed blobs are not fetched again, the partial one resumes', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 12 * 1024 * 1024, 12);
    const ref0 = `${R().host}/faults/killpull:v1`;
    await cli(a, ['pack', src, '-t', ref0]);
    const pushed = await cliJson<Transfer>(a, ['push', ref0]);
    const model = pushed.blobs.find((x) => x.size >= 12 * 1024 * 1024);
    const config = pushed.blobs[0];
    if (model === undefined || config === undefined) throw new Error('unexpected layers');
    const proxy = await startFaultProxy(R().url, {
      stallRate: 1,
      stallMs: 60_000,
      maxFaults: 1,
      only: (r) => r.method === 'GET' && r.path.endsWith(model.digest),
    });
    try {
      const ref = `${proxy.host}/faults/killpull:v1`;
      const b = freshEnv();
      const partial = path.join(b.home, 'storage', 'ingest', `${model.digest.slice(7)}.partial`);
      const size = (): number => (fs.existsSync(partial) ? fs.statSync(partial).size : 0);
      const first = start(b, ['pull', ref, '--concurrency', '1']);
      await until(() => stalled(proxy) && size() >= 4 * 1024 * 1024, 'the download to stall');
      first.child.kill('SIGKILL');
      await first.exited;
      const kept = size();
      const seen = proxy.requests.length;
      const second = await cliJson<Transfer>(b, ['pull', ref, '--concurrency', '1']);
      expect(second.digest).toBe(pushed.digest);
      const again = proxy.requests.slice(seen);
      expect(again.filter((r) => r.path.endsWith(config.digest))).toEqual([]);
      const m = second.blobs.find((x) => x.digest === model.digest);
      expect(m?.action).toBe('downloaded');
      expect(m?.resumedFrom).toBe(kept);
      expect(m?.transferred).toBe(model.size - kept);
      expect(second.blobs.find((x) => x.digest === config.digest)?.action).toBe('present');
      expect(fs.readdirSync(path.join(b.home, 'storage', 'ingest'))).toEqual([]);
      const out = path.join(b.work, 'out');
      expect((await cli(b, ['unpack', ref, '-d', out])).code).toBe(0);
      expect(treeDigests(out)['model.bin']).toBe(treeDigests(src)['model.bin']);
    } finally {
      await proxy.stop();
    }
  });

  it('kill -9 mid-push, then the same push: completed blobs are not sent again', async () => {
    const a = freshEnv();
    const src = kitDir(a.work, 3 * 1024 * 1024, 13);
    let patches = 0;
    const proxy = await startFaultProxy(R().url, {
      stallRate: 1,
      stallMs: 60_000,
      maxFaults: 1,
      // The second chunk of the model layer: config is done, the model half sent.
      only: (r) => r.method === 'PATCH' && ++patches === 2,
    });
    try {
      const ref = `${proxy.host}/faults/killpush:v1`;
      await cli(a, ['pack', src, '-t', ref]);
      const chunk = { CAIRN_PUSH_CHUNK_SIZE: String(1024 * 1024) };
      const first = start(a, ['push', ref, '--concurrency', '1'], chunk);
      await until(() => stalled(proxy), 'the upload to stall');
      first.child.kill('SIGKILL');
      await first.exited;
      const seen = proxy.requests.length;
      const second = await cliJson<Transfer>(a, ['push', ref, '--concurrency', '1'], chunk);
      const config = second.blobs[0];
      expect(config?.action).toBe('present');
      const again = proxy.requests.slice(seen);
      // The config went up before the kill: only a HEAD for it now.
      expect(again.filter((r) => r.digest === config?.digest).map((r) => r.method)).toEqual([
        'HEAD',
      ]);
      expect(second.blobs.slice(1).every((x) => x.action === 'uploaded')).toBe(true);
      expect(second.manifest).toBe('stored');
      const b = freshEnv();
      const pulled = await cliJson<Transfer>(b, ['pull', ref]);
      expect(pulled.digest).toBe(second.digest);
      const out = path.join(b.work, 'out');
      expect((await cli(b, ['unpack', ref, '-d', out])).code).toBe(0);
      expect(treeDigests(out)['model.bin']).toBe(treeDigests(src)['model.bin']);
    } finally {
      await proxy.stop();
    }
  });
});
