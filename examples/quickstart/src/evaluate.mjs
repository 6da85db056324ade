// evaluate: accuracy and per-class metrics on the held-out split (metrics JSON), and one
// row per test sample of actual vs predicted class (DVC's confusion-matrix plot).
import process from 'node:process';
import fs from 'node:fs';
import path from 'node:path';
import { CLASSES, predict, readCsv, writeCsv, xy } from './lib.mjs';

const [modelFile, testCsv, metricsFile, confusionFile] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(modelFile, 'utf8'));
const { x, y } = xy(readCsv(testCsv));
const predicted = x.map((f) => {
  const p = predict(model, f);
  return p.indexOf(Math.max(...p));
});
const correct = predicted.filter((p, i) => p === y[i]).length;
const perClass = {};
for (const [k, name] of CLASSES.entries()) {
  const tp = predicted.filter((p, i) => p === k && y[i] === k).length;
  const fp = predicted.filter((p, i) => p === k && y[i] !== k).length;
  const fn = predicted.filter((p, i) => p !== k && y[i] === k).length;
  perClass[name] = {
    precision: Number((tp / Math.max(tp + fp, 1)).toFixed(4)),
    recall: Number((tp / Math.max(tp + fn, 1)).toFixed(4)),
  };
}
const metrics = {
  accuracy: Number((correct / y.length).toFixed(4)),
  samples: y.length,
  classes: perClass,
};
fs.mkdirSync(path.dirname(metricsFile), { recursive: true });
fs.writeFileSync(metricsFile, `${JSON.stringify(metrics, null, 2)}\n`);
writeCsv(
  confusionFile,
  ['actual', 'predicted'],
  y.map((a, i) => [CLASSES[a], CLASSES[predicted[i]]]),
);
process.stdout.write(`accuracy ${metrics.accuracy} on ${y.length} samples\n`);
