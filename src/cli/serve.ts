/**
 * The terminal side of `cairn serve`: starts the server, prints the listening line (or one
 * JSON line), waits for SIGTERM or SIGINT (or, with `--exit-with-stdin`, the end of stdin, so a
 * supervisor's death ends its workers), drains, and returns the exit code. With `--json` each
 * SIGHUP reload also prints one JSON line, so a supervisor learns whether it took.
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
  config?: string;
  grpcPort?: number;
  logSample?: number;
  logDir?: string;
  /** drain and exit when stdin ends (a supervising agent died or closed the pipe) */
  exitWithStdin?: boolean;
}

function untilSignal(watchStdin: boolean): Promise<NodeJS.Signals | 'stdin-closed'> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals | 'stdin-closed'): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
    if (watchStdin) {
      process.stdin.on('end', () => {
        on('stdin-closed');
      });
      process.stdin.on('error', () => {
        on('stdin-closed');
      });
      process.stdin.resume();
    }
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
    const { serve, prefetchSources } = await import('../commands/serve.js');
    // The models are read while pino, prom-client and the server's modules load. Finding
    // them takes a few small reads, each needing the main thread, so those go first.
    const prefetched = prefetchSources(ctx, flags, sources);
    await Promise.all(prefetched.map((p) => p.reading));
    const { parseDuration } = await import('../core/duration.js');
    const { createLogger } = await import('../serve/logger.js');
    const logger = createLogger({ base: { component: 'serve' } });
    const drainMs = parseDuration(flags.drainTimeout);
    // Listen for signals before the line goes out: a supervisor may signal right after it.
    const signal = untilSignal(flags.exitWithStdin === true);
    // Also SIGHUP: its default would kill a server still loading; until it listens, it is ignored.
    let reload = (): void => undefined;
    const onHangup = (): void => {
      reload();
    };
    process.on('SIGHUP', onHangup);
    const handle = await serve(ctx, {
      ...flags,
      sources,
      prefetched,
      logger,
      onError: (error) => {
        logger.error({ err: error }, 'internal error');
      },
    });
    done();
    const line = json
      ? JSON.stringify({
          url: handle.url,
          host: handle.host,
          port: handle.port,
          ...(handle.grpcPort === undefined ? {} : { grpcPort: handle.grpcPort }),
          models: handle.models,
        })
      : `listening on ${handle.url}${handle.grpcPort === undefined ? '' : ` (grpc ${handle.host}:${handle.grpcPort})`}`;
    process.stdout.write(`${line}\n`);
    logger.info(
      { url: handle.url, grpcPort: handle.grpcPort, models: handle.models.length },
      'listening',
    );
    reload = (): void => {
      handle.reload().then(
        (result) => {
          logger.info(result, 'config reloaded');
          if (json) process.stdout.write(`${JSON.stringify({ event: 'reloaded', ...result })}\n`);
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          logger.error({ reason }, 'reload refused');
          if (json)
            process.stdout.write(`${JSON.stringify({ event: 'reload-refused', reason })}\n`);
        },
      );
    };
    const got = await signal;
    process.off('SIGHUP', onHangup);
    logger.info({ signal: got }, 'draining');
    const result = await handle.drain(drainMs);
    if (!result.drained) {
      process.stderr.write(
        `warning: ${result.abandoned} request(s) were still running after --drain-timeout ${flags.drainTimeout}\n`,
      );
    }
    logger.info({ drained: result.drained }, 'stopped');
    return 0;
  } catch (error) {
    done();
    return renderError(error, process.stderr, json);
  }
}
