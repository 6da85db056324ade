// Writes docs/environment.schema.json from the zod schema the parser enforces (run after
// `npm run build`; src/deploy/environment.test.ts fails while the two differ).
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { environmentJsonSchema } from '../dist/deploy/environment.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'docs', 'environment.schema.json');
fs.writeFileSync(file, `${JSON.stringify(environmentJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
