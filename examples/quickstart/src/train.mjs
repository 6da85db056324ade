// train: softmax (multinomial logistic) regression by full-batch gradient descent on
// standardised features; writes the model and the loss of every epoch (for `plots`).
import process from 'node:process';
import fs from 'node:fs';
import path from 'node:path';
import { CLASSES, flags, predict, readCsv, writeCsv, xy } from './lib.mjs';

const [trainCsv, modelFile, lossFile, ...rest] = process.argv.slice(2);
const { lr, epochs, l2 } = flags(rest);
const { x, y } = xy(readCsv(trainCsv));
const n = x.length;
const mean = [0, 1, 2, 3].map((j) => x.reduce((a, r) => a + r[j], 0) / n);
const std = [0, 1, 2, 3].map((j) =>
  Math.sqrt(x.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / n),
);
const model = {
  classes: CLASSES,
  mean,
  std,
  weights: [0, 1, 2, 3].map(() => CLASSES.map(() => 0)),
  bias: CLASSES.map(() => 0),
};
const losses = [];
for (let epoch = 1; epoch <= epochs; epoch++) {
  const gw = model.weights.map((row) => row.map(() => 0));
  const gb = model.bias.map(() => 0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const p = predict(model, x[i]);
    loss -= Math.log(Math.max(p[y[i]], 1e-12));
    const z = x[i].map((v, j) => (v - mean[j]) / std[j]);
    p.forEach((pk, k) => {
      const d = pk - (k === y[i] ? 1 : 0);
      gb[k] += d / n;
      z.forEach((zj, j) => (gw[j][k] += (d * zj) / n));
    });
  }
  model.weights = model.weights.map((row, j) => row.map((w, k) => w - lr * (gw[j][k] + l2 * w)));
  model.bias = model.bias.map((b, k) => b - lr * gb[k]);
  losses.push([epoch, (loss / n).toFixed(6)]);
}
fs.mkdirSync(path.dirname(modelFile), { recursive: true });
fs.writeFileSync(modelFile, `${JSON.stringify(model, null, 2)}\n`);
writeCsv(lossFile, ['epoch', 'loss'], losses);
process.stdout.write(`epoch ${epochs}: loss ${losses.at(-1)[1]}\n`);
