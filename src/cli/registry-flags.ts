/**
 * The transport flags every registry command takes (`--plain-http`, `--tls-verify`,
 * `--ca-file`, `--cert-file`, `--key-file`, `--concurrency`); their values are
 * `RegistryFlags` (src/commands/options.ts).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';

function bool(value: string): string {
  if (!['true', 'false', '1', '0'].includes(value)) {
    throw new InvalidArgumentError('true or false');
  }
  return value;
}

/** A commander parser for counts such as --jobs and --concurrency. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

/** Adds the transport flags to a command; `transfers` adds `--concurrency` too. */
export function withRegistryFlags(cmd: Command, transfers = false): Command {
  cmd
    .addOption(new Option('--plain-http', 'talk plain HTTP to the registry (no TLS)'))
    .addOption(
      new Option('--tls-verify <bool>', "verify the registry's TLS certificate")
        .default('true')
        .argParser(bool),
    )
    .addOption(new Option('--ca-file <pem>', 'also trust the CAs in this PEM bundle'))
    .addOption(new Option('--cert-file <pem>', 'client certificate for the registry'))
    .addOption(new Option('--key-file <pem>', 'key of the client certificate'));
  if (transfers) {
    cmd.addOption(
      new Option('--concurrency <n>', 'blobs transferred at once')
        .default(5)
        .argParser(positiveInteger),
    );
  }
  return cmd;
}
