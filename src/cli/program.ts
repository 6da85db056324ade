/**
 * The `cairn` program itself: its description, global options and how it exits on usage
 * errors. The entries (main.ts, serve-main.ts) declare their command groups on it and parse.
 */
import v8 from 'node:v8';
import { Command } from 'commander';

export function createProgram(): Command {
  // undici parses HTTP with llhttp compiled to WebAssembly; V8 then re-compiles it optimised on a
  // background thread, and node waits ~150 ms for that at exit. The baseline code parses headers
  // fast enough and bodies pass through untouched, so the CLI (not the library) stays on it.
  v8.setFlagsFromString('--liftoff-only');
  return (
    new Command('cairn')
      .description(
        'GitOps for machine learning: version data, reproduce pipelines, package and deploy models.',
      )
      .version('0.1.0')
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'print only errors')
      .showSuggestionAfterError()
      .configureHelp({ sortSubcommands: false })
      // Set before any command is declared, as commands copy it when created: commander has
      // printed its own message for a usage error of any command (exit 2); help and version
      // exit 0.
      .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  );
}
