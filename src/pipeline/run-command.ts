/**
 * Runs a stage's commands as DVC does: each line in its own `$SHELL -c` (bash with
 * `--noprofile --norc`, zsh with `--no-rcs`), in the stage's wdir, with DVC_ROOT/DVC_STAGE and
 * CAIRN_ROOT/CAIRN_STAGE set; stops at the first non-zero exit. Output is streamed line by line
 * to the sink and appended to the stage's log file.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ReproSink, StageFailure } from './events.js';

export interface CommandRun {
  root: string;
  stage: string;
  wdir: string;
  commands: readonly string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  sink: ReproSink;
  signal?: AbortSignal;
}

export function shellArgv(env: NodeJS.ProcessEnv, command: string): [string, string[]] {
  const shell = env.SHELL !== undefined && env.SHELL !== '' ? env.SHELL : '/bin/sh';
  const name = path.basename(shell).toLowerCase();
  const opts: Record<string, string[]> = {
    bash: ['--noprofile', '--norc'],
    zsh: ['--no-rcs'],
    fish: ['--no-config'],
  };
  return [shell, [...(opts[name] ?? []), '-c', command]];
}

export async function runCommands(run: CommandRun): Promise<StageFailure | undefined> {
  fs.mkdirSync(path.dirname(run.logFile), { recursive: true });
  const log = fs.openSync(run.logFile, 'w');
  try {
    for (const command of run.commands) {
      run.sink({ type: 'stage-command', stage: run.stage, command });
      fs.writeSync(log, `> ${command}\n`);
      const failure = await runOne(run, command, log);
      if (failure !== undefined) return failure;
    }
    return undefined;
  } finally {
    fs.closeSync(log);
  }
}

function runOne(run: CommandRun, command: string, log: number): Promise<StageFailure | undefined> {
  const [file, args] = shellArgv(run.env, command);
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: run.wdir,
      env: {
        ...run.env,
        DVC_ROOT: run.root,
        DVC_STAGE: run.stage,
        CAIRN_ROOT: run.root,
        CAIRN_STAGE: run.stage,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(run.signal === undefined ? {} : { signal: run.signal }),
    });
    const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void => {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        fs.writeSync(log, chunk);
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const text of lines)
          run.sink({ type: 'stage-output', stage: run.stage, stream: name, text });
      });
      stream.on('end', () => {
        if (pending !== '')
          run.sink({ type: 'stage-output', stage: run.stage, stream: name, text: pending });
        pending = '';
      });
    };
    pump(child.stdout, 'stdout');
    pump(child.stderr, 'stderr');
    child.on('error', (error) => {
      resolve({ reason: 'error', message: `cannot run ${file}: ${error.message}` });
    });
    child.on('close', (status, signal) => {
      if (status === 0) resolve(undefined);
      else resolve({ reason: 'exit-non-zero', command, status, signal });
    });
  });
}
