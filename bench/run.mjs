// Runs one benchmark: `npm run bench -- <name>` (or `node bench/run.mjs <name>`).
// With no name it lists them; `all` runs every one in turn. See docs/benchmarks.md.
import process from 'node:process';
import { emptyTrash, holdLock } from './lib.mjs';

const BENCHMARKS = {
  'add-1gib': './add-1gib.mjs',
  'add-mnist': './add-mnist.mjs',
  'noop-mnist': './noop-mnist.mjs',
  'mem-1m': './mem-1m.mjs',
  help: './help.mjs',
  repro: './repro.mjs',
  // Plots: one 10,000-point linear plot drawn by Cairn and by its libraries alone (bench/plots.mjs)
  plots: './plots.mjs',
  // ModelKits (bench/pack.mjs holds all four; the query names the one to run)
  'pack-1gib': './pack.mjs?name=pack-1gib',
  'unpack-1gib': './pack.mjs?name=unpack-1gib',
  'pack-mnist': './pack.mjs?name=pack-mnist',
  'pack-10gib-mem': './pack.mjs?name=pack-10gib-mem',
  // Registry transfers against skopeo (bench/pull.mjs, bench/push.mjs)
  'pull-1gib': './pull.mjs',
  pull: './pull.mjs',
  push: './push.mjs?name=all',
  'push-1gib': './push.mjs?name=push-1gib',
  'push-64x16': './push.mjs?name=push-64x16',
  'push-noop': './push.mjs?name=push-noop',
  // Serving against a bare node:http + onnxruntime-node server (bench/serve.mjs)
  serve: './serve.mjs?name=all',
  'serve-rest': './serve.mjs?name=serve-rest',
  'serve-batch': './serve.mjs?name=serve-batch',
  'serve-ready': './serve.mjs?name=serve-ready',
  'serve-soak': './serve.mjs?name=serve-soak',
  // Experiments (bench/exp.mjs)
  'exp-show': './exp.mjs?name=exp-show',
  'exp-run': './exp.mjs?name=exp-run',
  'exp-queue': './exp.mjs?name=exp-queue',
  // The GitOps agent in the end-to-end tests' world (bench/agent.mjs)
  agent: './agent.mjs?name=all',
  'agent-push': './agent.mjs?name=agent-push',
  'agent-idle': './agent.mjs?name=agent-idle',
  'agent-noop': './agent.mjs?name=agent-noop',
  'agent-abort': './agent.mjs?name=agent-abort',
};

const out = (s) => process.stdout.write(`${s}\n`);

async function load(name) {
  const mod = await import(BENCHMARKS[name]);
  return mod;
}

const name = process.argv[2];
if (name === undefined || name === '--list' || name === '-h' || name === '--help') {
  out('usage: npm run bench -- <name>... | all');
  out('');
  for (const n of Object.keys(BENCHMARKS)) {
    const mod = await load(n);
    out(`  ${n.padEnd(11)} ${mod.description}`);
  }
  out('');
  out('env: CAIRN_BENCH_RUNS      timed runs (default 5; add-mnist 3, help 20)');
  out('     CAIRN_BENCH_LFS_RUNS  git-lfs runs in add-mnist (default min(runs, 3))');
  out('     CAIRN_BENCH_MEM_RUNS  cairn add runs in mem-1m (default 1)');
  out('     CAIRN_BENCH_DIR       data and scratch repos (default /tmp/cairn-bench)');
  out('     CAIRN_BENCH_TAG       write bench/out/<name>.<tag>.json instead');
  out('     CAIRN_BENCH_NO_LOCK   1: do not wait for another running `npm run bench`');
  process.exit(0);
}

const names = name === 'all' ? Object.keys(BENCHMARKS) : process.argv.slice(2);
for (const n of names) {
  if (!(n in BENCHMARKS)) {
    out(`unknown benchmark '${n}'; one of: ${Object.keys(BENCHMARKS).join(', ')}, all`);
    process.exit(2);
  }
}
// One benchmark run at a time on this machine: a second `npm run bench` waits for the first.
holdLock('run', `npm run bench -- ${names.join(' ')}`);
for (const n of names) {
  const mod = await load(n);
  emptyTrash(); // scratch repos of the previous benchmark (see lib.mjs)
  await mod.run();
  out('');
}
emptyTrash({ settle: false });
