/**
 * The `cairn` command line: the program, its global options and how it exits on usage errors;
 * each command group declares its commands in src/cli/program/. Actions lazily import the
 * command functions and renderers; this is the only place that parses `process.argv`.
 */
import v8 from 'node:v8';
import { Command } from 'commander';
import { register as registerAgent } from './program/agent.js';
import { register as registerData } from './program/data.js';
import { register as registerDeploy } from './program/deploy.js';
import { register as registerExp } from './program/exp.js';
import { register as registerForge } from './program/forge.js';
import { register as registerMetrics } from './program/metrics.js';
import { register as registerModelKit } from './program/modelkit.js';
import { register as registerModelKitManage } from './program/modelkit-manage.js';
import { register as registerPipeline } from './program/pipeline.js';
import { register as registerPlots } from './program/plots.js';
import { register as registerRegistry } from './program/registry.js';
import { register as registerRepo } from './program/repo.js';
import { register as registerServe } from './program/serve.js';

// undici parses HTTP with llhttp compiled to WebAssembly; V8 then re-compiles it optimised on a
// background thread, and node waits ~150 ms for that at exit. The baseline code parses headers
// fast enough and bodies pass through untouched, so the CLI (not the library) stays on it.
v8.setFlagsFromString('--liftoff-only');

const program = new Command('cairn')
  .description(
    'GitOps for machine learning: version data, reproduce pipelines, package and deploy models.',
  )
  .version('0.1.0')
  .option('--json', 'machine-readable output')
  .option('-q, --quiet', 'print only errors')
  .showSuggestionAfterError()
  .configureHelp({ sortSubcommands: false })
  // Set before any command is declared, as commands copy it when created: commander has printed
  // its own message for a usage error of any command (exit 2); help and version exit 0.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

// In the order `cairn --help` lists them.
for (const register of [
  registerRepo, // init, config
  registerData, // add, status, checkout, commit, gc, fsck, unprotect
  registerModelKit, // pack, unpack, list, info, inspect
  registerModelKitManage, // tag, rm, diff, kit init
  registerRegistry, // login, logout, push, pull, referrers
  registerPipeline, // repro, dag
  registerMetrics, // metrics, params
  registerPlots, // plots, report
  registerExp, // exp
  registerDeploy, // deploy, promote, rollback, history, render
  registerForge, // comment, ci
  registerAgent, // agent
  registerServe, // serve
])
  register(program);

await program.parseAsync(process.argv);
