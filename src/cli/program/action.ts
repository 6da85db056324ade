/**
 * How a command's action runs: its context (events rendered as text or `--json` lines, an
 * AbortSignal), its result printed as text or JSON, its errors rendered, its exit code set.
 */
import type { Command } from 'commander';
import { createEventOutput } from '../events.js';
import { renderError } from '../errors.js';
import type { CommandContext } from '../../commands/context.js';

/** The program's own options, which every command sees. */
export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
}

export interface ActionOptions {
  /** `--json` prints the events and then the result as one line stream on stdout (repro) */
  lineStream?: boolean;
  /** prefix stage output with its stage name (repro: on a terminal, or when stages interleave) */
  prefixStages?: boolean;
}

/** What a command body answers: its JSON, its text (a function renders only when wanted). */
export interface ActionResult {
  json: unknown;
  text: string | (() => string);
  exitCode?: number;
}

/**
 * A command's context: its events rendered (text, or `--json` lines) and an AbortSignal that
 * SIGINT and SIGTERM abort before the process ends by that signal as it always has.
 */
function context(flags: GlobalFlags, o: ActionOptions): { ctx: CommandContext; done: () => void } {
  const output = createEventOutput({
    json: flags.json === true,
    quiet: flags.quiet === true,
    jsonLines: o.lineStream === true ? process.stdout : process.stderr,
    prefixStages: o.prefixStages === true,
  });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort(new Error(`interrupted by ${signal}`));
    // Abort listeners have run; end by the signal itself, so exit statuses stay as they were.
    setImmediate(() => {
      release();
      process.kill(process.pid, signal);
    });
  };
  const release = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    ctx: { cwd: process.cwd(), env: process.env, sink: output.sink, signal: controller.signal },
    done: () => {
      release();
      output.done();
    },
  };
}

/** Runs a command body with rendering and error handling; the body returns text or JSON. */
export function action<A extends unknown[]>(
  body: (ctx: CommandContext, ...args: A) => Promise<ActionResult>,
  options: ActionOptions | ((...args: A) => ActionOptions) = {},
) {
  return async (...args: A): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals<GlobalFlags>();
    const params = args.slice(0, -1) as A;
    const o = typeof options === 'function' ? options(...params) : options;
    const { ctx, done } = context(flags, o);
    try {
      const result = await body(ctx, ...params);
      done();
      if (flags.json === true)
        process.stdout.write(
          `${o.lineStream === true ? JSON.stringify(result.json) : JSON.stringify(result.json, null, 2)}\n`,
        );
      else if (flags.quiet !== true) {
        // A function renders only when text is wanted (a large table is not built for --json).
        const text = typeof result.text === 'function' ? result.text() : result.text;
        if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
      process.exitCode = result.exitCode ?? 0;
    } catch (error) {
      done();
      process.exitCode = renderError(error, process.stderr, flags.json === true);
    }
  };
}

/**
 * The action of a command that runs until a signal (agent, serve): `run` prints for itself,
 * calls `done` when its events end, and answers the exit code.
 */
export function session<A extends unknown[]>(
  run: (ctx: CommandContext, json: boolean, done: () => void, ...args: A) => Promise<number>,
) {
  return async (...args: [...A, Command]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals<GlobalFlags>();
    const { ctx, done } = context(flags, {});
    process.exitCode = await run(ctx, flags.json === true, done, ...(args.slice(0, -1) as A));
  };
}
