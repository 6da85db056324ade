import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockTimeoutError } from './errors.js';
import { acquireLock } from './lock.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-lock-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A pid that certainly belongs to no process: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid ?? 0;
}

describe('file locks', () => {
  it('is exclusive, and free again once released', async () => {
    const lockPath = path.join(dir, 'lock');
    const first = await acquireLock(lockPath, { timeoutMs: 0, command: 'cairn test' });
    await expect(
      acquireLock(lockPath, { timeoutMs: 0, command: 'cairn test' }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    await first.release();
    const second = await acquireLock(lockPath, { timeoutMs: 0, command: 'cairn test' });
    await second.release();
    expect(fs.existsSync(lockPath)).toBe(false);
  });

  it('breaks a lock whose owner process is gone', async () => {
    const lockPath = path.join(dir, 'lock');
    const pid = await deadPid();
    fs.writeFileSync(
      lockPath,
      JSON.stringify({ pid, host: os.hostname(), command: 'cairn add', since: 0 }),
    );
    const held = await acquireLock(lockPath, { timeoutMs: 0, command: 'cairn test' });
    expect(JSON.parse(fs.readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    await held.release();
  });

  it('waits for a live owner with a message, then gives up naming it', async () => {
    const lockPath = path.join(dir, 'lock');
    const sleeper = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(
        lockPath,
        JSON.stringify({ pid: sleeper.pid, host: os.hostname(), command: 'cairn gc', since: 0 }),
      );
      const messages: string[] = [];
      const error = await acquireLock(lockPath, {
        timeoutMs: 200,
        command: 'cairn test',
        onWait: (m) => messages.push(m),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as Error).message).toContain(`pid ${String(sleeper.pid)}`);
      expect((error as Error).message).toContain('cairn gc');
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('Waiting for lock');
      // The live owner's lock is untouched.
      expect(JSON.parse(fs.readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: sleeper.pid });
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('hands the lock to a waiter when the owner releases it', async () => {
    const lockPath = path.join(dir, 'lock');
    const first = await acquireLock(lockPath, { timeoutMs: 0, command: 'cairn first' });
    const messages: string[] = [];
    let releasedAt: number | undefined;
    const waiting = acquireLock(lockPath, {
      timeoutMs: 5000,
      command: 'cairn second',
      onWait: (m) => messages.push(m),
    });
    setTimeout(() => {
      releasedAt = Date.now();
      void first.release();
    }, 100);
    const second = await waiting;
    // The waiter got the lock only after the owner let go, having said once whom it waited for.
    expect(releasedAt).toBeDefined();
    expect(messages).toEqual([
      `Waiting for lock ${lockPath}, held by pid ${String(process.pid)} (cairn first)…`,
    ]);
    expect(JSON.parse(fs.readFileSync(lockPath, 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'cairn second',
    });
    await second.release();
    expect(fs.existsSync(lockPath)).toBe(false);
  });

  it('makes its folder again when it was deleted, but never the folder above it', async () => {
    const lockPath = path.join(dir, 'tmp', 'lock');
    const held = await acquireLock(lockPath, { timeoutMs: 0, command: 'cairn test' });
    await held.release();
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);

    const orphan = path.join(dir, 'gone', 'tmp', 'lock');
    await expect(
      acquireLock(orphan, { timeoutMs: 0, command: 'cairn test' }),
    ).rejects.toMatchObject({
      code: 'lock-dir-missing',
      message: `Cannot create lock ${orphan}: its folder is missing`,
    });
    expect(fs.existsSync(path.join(dir, 'gone'))).toBe(false);
  });

  it('treats a torn lock file as stale', async () => {
    const lockPath = path.join(dir, 'lock');
    fs.writeFileSync(lockPath, '{"pid": 12');
    const held = await acquireLock(lockPath, { timeoutMs: 0, command: 'cairn test' });
    await held.release();
  });
});
