/** `commit`: record the current workspace state of tracked outputs in their `.dvc` files. */
import fs from 'node:fs';
import { CairnError } from '../core/errors.js';
import { record, type AddedOutput } from './add.js';
import { selectDvcFiles } from './checkout.js';
import { outPath } from './dvcfile.js';
import { hashOutput } from './tree.js';
import type { Workspace } from './workspace.js';

export async function commitTargets(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
): Promise<AddedOutput[]> {
  const results: AddedOutput[] = [];
  for (const dvc of await selectDvcFiles(ws, cwd, targets)) {
    for (const out of dvc.outs) {
      const abs = outPath(dvc, out);
      if (!fs.existsSync(abs)) {
        throw new CairnError(
          'output-missing',
          `${ws.rel(abs)} (tracked by ${ws.rel(dvc.file)}) is missing from the workspace`,
          {
            hint: `Restore it with \`cairn checkout ${ws.rel(dvc.file)}\`, or remove the .dvc file to stop tracking it.`,
          },
        );
      }
      const info = await hashOutput(ws, abs, { store: out.cache });
      results.push(await record(ws, abs, info, dvc));
    }
  }
  return results;
}
