// prepare: a seeded, stratified train/test split of the Iris data.
import process from 'node:process';
import fs from 'node:fs';
import { CLASSES, flags, prng, readCsv, writeCsv } from './lib.mjs';

const [input, outDir, ...rest] = process.argv.slice(2);
const { seed, test_ratio: testRatio } = flags(rest);
const csv = readCsv(input);
const random = prng(seed);
const train = [];
const test = [];
for (const species of CLASSES) {
  const rows = csv.rows.filter((r) => r[4] === species);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const nTest = Math.round(rows.length * testRatio);
  test.push(...rows.slice(0, nTest));
  train.push(...rows.slice(nTest));
}
fs.mkdirSync(outDir, { recursive: true });
writeCsv(`${outDir}/train.csv`, csv.header, train);
writeCsv(`${outDir}/test.csv`, csv.header, test);
process.stdout.write(`train: ${train.length} rows, test: ${test.length} rows\n`);
