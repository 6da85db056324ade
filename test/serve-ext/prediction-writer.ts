// Appends prediction records to the log in argv[2] as fast as it can, until killed; prints
// "writing" once the first record is on disk. Driven by src/serve/prediction-log.test.ts.
import { PredictionLog } from '../../src/serve/prediction-log.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: prediction-writer <dir>');
const log = PredictionLog.open({
  dir,
  model: 'iris',
  version: 'v1',
  digest: 'sha256:00',
  sample: 1,
  maxBytes: 200_000,
  keep: 3,
});
for (let i = 0; ; i++) {
  // Records of varying length, some large, so that a kill can land anywhere.
  const x = new Float32Array(1 + ((i * 37) % 500)).fill(i);
  log.record(`req-${i}`, [{ name: 'X', datatype: 'FP32', shape: [x.length], data: x }], []);
  await log.flush();
  if (i === 0) process.stdout.write('writing\n');
}
