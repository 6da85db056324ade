/**
 * Durations as Cairn's flags and manifests write them (`500ms`, `30s`, `2m`, `1h`; a bare number
 * is seconds), in milliseconds: `--drain-timeout`, rollout pauses and analysis intervals.
 */
import { CairnError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `30s` → 30000, `1.5m` → 90000, `2` → 2000. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match?.[1] === undefined) {
    throw new CairnError('duration-invalid', `'${text}' is not a duration`, {
      hint: 'Write a number and a unit: 500ms, 30s, 2m or 1h.',
    });
  }
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}
