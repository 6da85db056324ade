/**
 * The `cairn` command line: the program (program.ts) with every command group, each declaring
 * its commands in src/cli/program/. Actions lazily import the command functions and renderers;
 * this and serve-main.ts are the only places that parse `process.argv`.
 */
import { createProgram } from './program.js';
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

const program = createProgram();

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
