/**
 * The terminal side of `cairn serve`: starts the server, prints the listening line (or one
 * JSON line), waits for SIGTERM or SIGINT, drains, and returns the exit code.
 */
import { renderError } from './errors.js';
import type { CommandContext } from '../commands/context.js';
import type { RemoteFlags } from '../commands/options.js';

export interface ServeFlags extends RemoteFlags {
  host: string;
  port: number;
  maxBody: number;
  drainTimeout: string;
  threads?: number;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export async function runServe(
  ctx: CommandContext,
  sources: readonly string[],
  flags: ServeFlags,
  json: boolean,
  done: () => void,
): Promise<number> {
  try {
    const { serve, parseDuration } = await import('../commands/serve.js');
    const drainMs = parseDuration(flags.drainTimeout);
    // Listen for signals before the line goes out: a supervisor may signal right after it.
    const signal = untilSignal();
    const handle = await serve(ctx, {
      ...flags,
      sources,
      onError: (error) => {
        process.stderr.write(
          `error: internal: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      },
    });
    done();
    const line = json
      ? JSON.stringify({
          url: handle.url,
          host: handle.host,
          port: handle.port,
          models: handle.models,
        })
      : `listening on ${handle.url}`;
    process.stdout.write(`${line}\n`);
    await signal;
    const result = await handle.drain(drainMs);
    if (!result.drained) {
      process.stderr.write(
        `warning: ${result.abandoned} request(s) were still running after --drain-timeout ${flags.drainTimeout}\n`,
      );
    }
    return 0;
  } catch (error) {
    done();
    return renderError(error, process.stderr, json);
  }
}
