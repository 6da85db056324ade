/** `--filter types[:ids]` for unpack (§4.1): which Kitfile entries to extract. */
import { CairnError } from '../core/errors.js';

export const FILTER_TYPES = [
  'kitfile',
  'model',
  'datasets',
  'code',
  'docs',
  'prompts',
  'mcpservers',
] as const;
export type FilterType = (typeof FILTER_TYPES)[number];

export interface UnpackFilter {
  types: Set<FilterType>;
  /** matched exactly against an entry's name or path, as written in the Kitfile */
  ids: string[];
}

export function parseFilter(text: string): UnpackFilter {
  const colon = text.indexOf(':');
  const typePart = colon < 0 ? text : text.slice(0, colon);
  const idPart = colon < 0 ? '' : text.slice(colon + 1);
  const types = new Set<FilterType>();
  for (const raw of typePart.split(',')) {
    const t = raw.trim().toLowerCase();
    if (!(FILTER_TYPES as readonly string[]).includes(t)) {
      throw new CairnError('bad-filter', `--filter ${text}: unknown type "${raw}"`, {
        hint: `Types are ${FILTER_TYPES.join(', ')}; e.g. --filter model or --filter datasets:train.`,
      });
    }
    types.add(t as FilterType);
  }
  const ids =
    idPart === ''
      ? []
      : idPart
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  return { types, ids };
}

/** True when no filter is given, or one names the type (and, with ids, the entry). */
export function selected(
  filters: readonly UnpackFilter[],
  type: FilterType,
  entry: { name?: string; path?: string } | undefined,
): boolean {
  if (filters.length === 0) return true;
  return filters.some(
    (f) =>
      f.types.has(type) &&
      (f.ids.length === 0 ||
        (entry !== undefined && f.ids.some((id) => id === entry.name || id === entry.path))),
  );
}
