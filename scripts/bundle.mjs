// Bundles the compiled CLI (dist/cli/main.js) and the worker (dist/data/worker.js) into
// dist/bundle/: one file per lazily imported command group instead of some sixty modules, which
// saves Node's ESM resolution and loading (~60 ms) on every start; and `cairn serve` alone into
// dist/bundle-serve/. bin/cairn prefers the bundles.
// Native code stays outside: zstd-napi, @resvg/resvg-js, onnxruntime-node, undici (loaded piecewise, see undici-lite.ts) and our
// addon (native/, found relative to dist/bundle/ as to dist/data/).
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const options = {
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
};

// The whole CLI, and `cairn serve` on its own (src/cli/serve-main.ts): split along the lazy
// imports of every command, a server's start touched some forty-five chunk files; bundled apart,
// about twenty. Both sit two levels under the package root, where native/ is looked for.
const bundles = [
  { dir: 'dist/bundle', entryPoints: { main: 'dist/cli/main.js', worker: 'dist/data/worker.js' } },
  { dir: 'dist/bundle-serve', entryPoints: { main: 'dist/cli/serve-main.js' } },
];
for (const { dir, entryPoints } of bundles) {
  // Chunk names carry content hashes: start empty so old chunks do not pile up.
  fs.rmSync(dir, { recursive: true, force: true });
  await build({ ...options, entryPoints, outdir: dir });
}

// Files modules read at run time from beside themselves (`new URL('./x', import.meta.url)`):
// tsc does not copy them to dist/, and in a bundle every chunk sits in its folder.
for (const file of ['serve/grpc_predict_v2.proto']) {
  fs.copyFileSync(`src/${file}`, `dist/${file}`);
  for (const { dir } of bundles) fs.copyFileSync(`src/${file}`, `${dir}/${path.basename(file)}`);
}
