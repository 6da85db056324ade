/** What `info` shows: the Kitfile, or with `-f .model.path` one dotted field of it (kit's filter). */
import { CairnError } from '../core/errors.js';
import type { Kitfile } from './kitfile.js';

/** A dotted field selection (no `[]`). */
export function selectField(k: Kitfile, filter: string): unknown {
  let v: unknown = k;
  for (const part of filter
    .replace(/^\./, '')
    .split('.')
    .filter((s) => s !== '')) {
    if (typeof v !== 'object' || v === null || !(part in v)) {
      throw new CairnError('bad-filter', `no field ${filter} in the Kitfile`, {
        hint: 'Use a dotted path such as .model.path or .package.name.',
      });
    }
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** What `info` shows: the Kitfile, or with `-f` one field of it. */
export interface KitInfo {
  kitfile: Kitfile;
  /** the `-f` selection and its value */
  field?: { filter: string; value: unknown };
}

export function infoOf(kitfile: Kitfile, filter: string | undefined): KitInfo {
  if (filter === undefined) return { kitfile };
  return { kitfile, field: { filter, value: selectField(kitfile, filter) } };
}
