/** `cairn kit init [dir]`: write a Kitfile generated from the directory. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { generateKitfile } from '../modelkit/init.js';
import { declaredOutputs } from '../pipeline/declared-outputs.js';
import { kitfileToYaml } from '../modelkit/kitfile-yaml.js';
import { parseKitfile } from '../modelkit/kitfile-parse.js';
import { assertValidKitfile } from '../modelkit/kitfile-validate.js';
import type { CommandContext } from './context.js';

export interface InitCommandOptions {
  dir: string;
  name?: string;
  description?: string;
  author?: string;
  force: boolean;
}

export async function kitInit(ctx: CommandContext, o: InitCommandOptions) {
  const dir = path.resolve(ctx.cwd, o.dir);
  const file = path.join(dir, 'Kitfile');
  try {
    await fsp.access(file);
    if (!o.force) {
      throw new CairnError('exists', `${file} already exists`, {
        hint: 'Pass --force to overwrite it.',
      });
    }
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  const kitfile = await generateKitfile({
    dir,
    name: o.name ?? path.basename(dir),
    ...(o.description === undefined ? {} : { description: o.description }),
    ...(o.author === undefined ? {} : { author: o.author }),
    pipelineOutputs: (dvcYaml) => declaredOutputs([dvcYaml]),
  });
  const text = kitfileToYaml(kitfile);
  // What we write must read back as a valid Kitfile.
  assertValidKitfile(parseKitfile(file, text));
  await writeFileAtomic(file, text);
  return { file, kitfile };
}
