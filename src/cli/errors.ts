/** Where errors meet the terminal: one message (what, where, what to do) and an exit code. */
import { isCairnError } from '../core/errors.js';

/** 1 for expected failures, 70 (EX_SOFTWARE) for bugs. */
export function renderError(error: unknown, stream: NodeJS.WriteStream, json: boolean): number {
  if (isCairnError(error)) {
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint } }, null, 2)}\n`,
      );
    }
    stream.write(`error: ${error.message}\n`);
    if (error.hint !== undefined) stream.write(`  ${error.hint}\n`);
    return 1;
  }
  stream.write(
    `Internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  stream.write('  This is a bug in Cairn; please report it with the command you ran.\n');
  return 70;
}
