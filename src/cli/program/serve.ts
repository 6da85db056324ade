/** `cairn serve` (src/serve): runs until SIGTERM or SIGINT, then drains. */
import type { Command } from 'commander';
import { positiveInteger, withRegistryFlags } from '../registry-flags.js';
import { session } from './action.js';
import { kitopsOption, nonNegativeInteger } from './options.js';
import type { ServeFlags } from '../serve.js';

export function register(program: Command): void {
  withRegistryFlags(
    program
      .command('serve [sources...]')
      .description(
        'serve ONNX models (files, Kitfile folders, ModelKits) over the Open Inference Protocol',
      )
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'port to listen on (0 picks a free one)', nonNegativeInteger, 8080)
      .option('--max-body <bytes>', 'largest request body', positiveInteger, 64 * 1024 * 1024)
      .option('--drain-timeout <duration>', 'how long requests may finish after SIGTERM', '30s')
      .option(
        '--threads <n>',
        'ONNX Runtime threads per model (default: its own choice)',
        positiveInteger,
      )
      .option('--config <file>', 'serve.yaml: models, versions, runtimes, batching, traffic')
      .option(
        '--grpc-port <port>',
        'also serve OIP over gRPC (0 picks a free port)',
        nonNegativeInteger,
      )
      .option(
        '--log-sample <share>',
        'share of requests the prediction log records (0 to 1)',
        Number,
      )
      .option('--log-dir <dir>', 'where prediction logs go (default .cairn/predictions)')
      .option('--exit-with-stdin', 'drain and exit when stdin ends (for a supervising process)')
      .addOption(kitopsOption()),
  ).action(
    session(async (ctx, json, done, sources: string[], opts: ServeFlags) => {
      const { runServe } = await import('../serve.js');
      return runServe(ctx, sources, opts, json, done);
    }),
  );
}
