// Bundles the compiled CLI (dist/cli/main.js) and the worker (dist/data/worker.js) into
// dist/bundle/: one file per lazily imported command group instead of some sixty modules, which
// saves Node's ESM resolution and loading (~60 ms) on every start. bin/cairn prefers the bundle.
// Native code stays outside: zstd-napi, @resvg/resvg-js, onnxruntime-node, undici (loaded piecewise, see undici-lite.ts) and our
// addon (native/, found relative to dist/bundle/ as to dist/data/).
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

// Chunk names carry content hashes: start empty so old chunks do not pile up.
fs.rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { main: 'dist/cli/main.js', worker: 'dist/data/worker.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['zstd-napi', 'undici', 'onnxruntime-node', '@resvg/resvg-js'],
  // CommonJS dependencies (commander) call require(); ESM output needs one made for it.
  banner: {
    js: "import { createRequire as __cairnRequire } from 'node:module'; const require = __cairnRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// Files modules read at run time from beside themselves (`new URL('./x', import.meta.url)`):
// tsc does not copy them to dist/, and in the bundle every chunk sits in dist/bundle/.
for (const file of ['serve/grpc_predict_v2.proto']) {
  fs.copyFileSync(`src/${file}`, `dist/${file}`);
  fs.copyFileSync(`src/${file}`, `dist/bundle/${path.basename(file)}`);
}
