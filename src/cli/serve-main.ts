/**
 * `cairn serve`'s own entry: the same program as main.ts with only the serve command declared.
 * scripts/bundle.mjs bundles it apart (dist/bundle-serve/), so a server starts from about twenty
 * module files instead of the forty-odd chunks it shares with every other command in the whole
 * CLI's bundle (each costs Node's ESM loader ~0.7 ms here); bin/cairn picks it for `cairn serve`.
 * Help and version always come from main.ts, which lists every command.
 */
import { createProgram } from './program.js';
import { register as registerServe } from './program/serve.js';

const program = createProgram();
registerServe(program);
await program.parseAsync(process.argv);
