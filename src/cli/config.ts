/** Text renderings of `cairn config` (get prints the value, set and unset print nothing). */
import type { ConfigEntry } from '../commands/config.js';

export function formatConfigList(entries: readonly ConfigEntry[], showOrigin: boolean): string {
  return entries
    .map((e) => (showOrigin ? `${e.origin}\t${e.key}=${e.value}` : `${e.key}=${e.value}`))
    .join('\n');
}
