/**
 * `cairn serve` starts from a bundle of its own (dist/bundle-serve, from src/cli/serve-main.ts):
 * it declares only serve, and says exactly what the whole CLI says for any serve command line,
 * usage errors (exit 2) and help included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT, createSandbox } from './helpers.js';

const WHOLE = path.join(PROJECT_ROOT, 'dist', 'bundle', 'main.js');
const SERVE = path.join(PROJECT_ROOT, 'dist', 'bundle-serve', 'main.js');

describe.skipIf(!fs.existsSync(SERVE))('the serve bundle', () => {
  test('answers every serve command line as the whole CLI does', async () => {
    await using s = await createSandbox({ git: false });
    await fs.promises.writeFile(s.path('not-a-model.onnx'), 'not ONNX');
    for (const args of [
      ['serve', '--no-such-option'],
      ['serve', '--port', 'eighty', 'model.onnx'],
      ['serve', '--port'],
      ['--json', 'serve'],
      ['serve'],
      ['serve', 'missing.onnx'],
      ['-q', 'serve', 'not-a-model.onnx'],
      ['serve', '--help'],
    ]) {
      const [whole, serve] = await Promise.all([
        s.exec(process.execPath, [WHOLE, ...args]),
        s.exec(process.execPath, [SERVE, ...args]),
      ]);
      const said = (r: typeof whole) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });
      expect(said(serve), args.join(' ')).toEqual(said(whole));
    }
  });

  test('declares no other command', async () => {
    await using s = await createSandbox({ git: false });
    const r = await s.exec(process.execPath, [SERVE, 'add', 'data']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'add'");
  });
});
