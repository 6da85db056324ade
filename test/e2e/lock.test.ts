/** The repository lock as users meet it: concurrent commands wait, dead owners are ignored, live ones time out. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import { describe, expect, test } from 'vitest';
import {
  createSandbox,
  describeRun,
  deterministicBytes,
  digestsOf,
  dvcTextForDir,
  fileDigests,
  smallFiles,
  snapshot,
  waitFor,
  writeTree,
  type Sandbox,
} from './helpers.js';

const MiB = 1024 * 1024;
const lockFile = (s: Sandbox): string => s.path('.cairn/tmp/lock');

/** The pid the lock file names, or undefined when nobody holds it. */
function lockOwner(s: Sandbox): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(lockFile(s), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

async function writeLock(s: Sandbox, pid: number, command: string): Promise<string> {
  const text = JSON.stringify({ pid, host: os.hostname(), command, since: Date.now() - 60_000 });
  await fsp.writeFile(lockFile(s), text);
  return text;
}

async function expectSound(s: Sandbox): Promise<void> {
  const fsck = await s.cairn(['fsck', '--json']);
  expect(fsck.code, describeRun(['fsck'], fsck)).toBe(0);
  expect((JSON.parse(fsck.stdout) as { corrupt: unknown[] }).corrupt).toEqual([]);
  expect(JSON.parse((await s.cairnOk(['status', '--json'])).stdout)).toEqual({});
  expect(fs.existsSync(lockFile(s)), 'the lock is released').toBe(false);
}

describe.concurrent('the repository lock', () => {
  test('two adds at once on different data: the second waits for the first, and both succeed', async () => {
    await using s = await createSandbox();
    const big = { 'weights.bin': deterministicBytes(64 * MiB, 7) };
    const small = smallFiles(50, 'small-');
    await writeTree(s.path('big'), big);
    await writeTree(s.path('small'), small);

    const first = s.spawnCairn(['add', 'big']);
    await waitFor('the first add to take the lock', () => {
      if (first.child.exitCode !== null)
        throw new Error(`the first add ended early:\n${first.stderr()}`);
      return lockOwner(s) === first.pid ? true : undefined;
    });
    // Pause the holder so the overlap never depends on how fast this machine is.
    first.kill('SIGSTOP');
    expect(lockOwner(s), 'the first add finished before it could be paused').toBe(first.pid);

    const second = s.spawnCairn(['add', 'small']);
    await waitFor('the second add to say it is waiting', () =>
      second.stderr().includes('Waiting for lock') ? true : undefined,
    );
    first.kill('SIGCONT');
    const [r1, r2] = await Promise.all([first.exited, second.exited]);
    expect(r1.code, describeRun(['add', 'big'], r1)).toBe(0);
    expect(r2.code, describeRun(['add', 'small'], r2)).toBe(0);
    expect(r2.stderr).toMatch(
      new RegExp(`Waiting for lock .*held by pid ${first.pid} \\(cairn add big\\)`),
    );
    expect(r1.stderr).not.toContain('Waiting');

    expect(await fsp.readFile(s.path('big.dvc'), 'utf8')).toBe(dvcTextForDir('big', big));
    expect(await fsp.readFile(s.path('small.dvc'), 'utf8')).toBe(dvcTextForDir('small', small));
    expect(await fsp.readFile(s.path('.gitignore'), 'utf8')).toBe('/big\n/small\n');
    expect(fileDigests(s.path('big'))).toEqual(digestsOf(big));
    await expectSound(s);
  }, 120_000);

  test('a stale lock naming a dead process is cleared automatically', async () => {
    await using s = await createSandbox();
    const data = smallFiles(10);
    await writeTree(s.path('data'), data);
    const gone = spawn('true');
    await once(gone, 'exit');
    await writeLock(s, gone.pid ?? 0, 'cairn add data');

    const r = await s.cairnOk(['add', 'data']);
    expect(r.stderr).not.toContain('Waiting');
    expect(await fsp.readFile(s.path('data.dvc'), 'utf8')).toBe(dvcTextForDir('data', data));
    await expectSound(s);
  });

  test('a lock held by a live process makes add give up after core.lock_timeout, naming the holder and changing nothing', async () => {
    await using s = await createSandbox();
    await writeTree(s.path('data'), smallFiles(10));
    await s.cairnOk(['config', 'set', 'core.lock_timeout', '1']);
    const holder = spawn('sleep', ['30']);
    try {
      const lockText = await writeLock(s, holder.pid ?? 0, 'cairn gc --force');
      const before = snapshot(s.root);

      const r = await s.cairn(['add', 'data']);
      expect(r.code, describeRun(['add', 'data'], r)).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`^error: .*lock is held by pid ${holder.pid} on .* \\(cairn gc --force\\)`, 'm'),
      );
      expect(r.stderr).toContain('core.lock_timeout');
      // generous: a slow machine passes, the 60 s default would not
      expect(r.ms).toBeLessThan(30_000);
      expect(snapshot(s.root)).toEqual(before);
      expect(await fsp.readFile(lockFile(s), 'utf8')).toBe(lockText);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);
});
