/** Durations as environment manifests write them (`500ms`, `30s`, `2m`, `1h`), in milliseconds. */
import { CairnError } from '../core/errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `30s` → 30000; the schema has already checked the shape, so a mismatch is a caller's bug. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) {
    throw new CairnError('duration-invalid', `'${text}' is not a duration`, {
      hint: 'Write a whole number and a unit: 500ms, 30s, 2m or 1h.',
    });
  }
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  return Number(amount) * UNIT_MS[unit];
}
