// Shared helpers for the quickstart stages: CSV, argv flags, a seeded PRNG, softmax.
import fs from 'node:fs';

export const CLASSES = ['setosa', 'versicolor', 'virginica'];
export const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/** Reads a CSV with a header into {header, rows} (strings). */
export function readCsv(file) {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  return { header: head.split(','), rows: lines.map((l) => l.split(',')) };
}

export function writeCsv(file, header, rows) {
  fs.writeFileSync(file, `${[header, ...rows].map((r) => r.join(',')).join('\n')}\n`);
}

/** `--name value` pairs (as DVC expands `${train}` in cmd) into an object of numbers. */
export function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (key === undefined || Number.isNaN(value)) throw new Error(`bad flag ${argv[i]}`);
    out[key] = value;
  }
  return out;
}

/** mulberry32: deterministic floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function softmax(z) {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Features as numbers and labels as class indices. */
export function xy(csv) {
  return {
    x: csv.rows.map((r) => r.slice(0, 4).map(Number)),
    y: csv.rows.map((r) => CLASSES.indexOf(r[4])),
  };
}

/** Class probabilities of one sample under a model {mean, std, weights[4][3], bias[3]}. */
export function predict(model, features) {
  const z = model.bias.map((b, k) =>
    features.reduce(
      (acc, v, j) => acc + ((v - model.mean[j]) / model.std[j]) * model.weights[j][k],
      b,
    ),
  );
  return softmax(z);
}
