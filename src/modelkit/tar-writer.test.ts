// A file that shrinks or grows between the walk and the copy is an error naming the file, on
// the direct-I/O path and the page-cache path alike; the source is left untouched.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLayerSink } from './layer-sink.js';
import { writeTar } from './tar-writer.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tarw-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function packOne(abs: string, claimed: number, direct: boolean): Promise<void> {
  const out = path.join(dir, 'layer.tar');
  const fh = await fsp.open(out, 'w');
  const sink = await createLayerSink(fh, out, 'none', direct);
  try {
    await writeTar([{ name: 'model.bin', type: 'file', mode: 0o644, size: claimed, abs }], sink);
    await sink.finish();
  } catch (error) {
    await sink.discard(); // as pack does: closes the sink's direct descriptor
    throw error;
  } finally {
    await fh.close();
  }
}

describe('a file that changes size while packing', () => {
  for (const direct of ['1', '0']) {
    it(`is refused with its name (CAIRN_DIRECT_IO=${direct})`, async () => {
      const abs = path.join(dir, 'model.bin');
      const bytes = Buffer.alloc(3 * 1024 * 1024, 7); // above the 256 KiB small-file path
      fs.writeFileSync(abs, bytes);
      // The walk saw more bytes than are there now (it shrank) ...
      await expect(packOne(abs, bytes.length + 4096, direct === '1')).rejects.toThrow(
        `${abs} changed size while packing`,
      );
      // ... or fewer (it grew).
      await expect(packOne(abs, bytes.length - 4096, direct === '1')).rejects.toThrow(
        `${abs} changed size while packing`,
      );
      expect(fs.readFileSync(abs).equals(bytes)).toBe(true);
    });
  }
});
