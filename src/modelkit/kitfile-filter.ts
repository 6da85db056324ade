/** `info -f .model.path`: a dotted field of a Kitfile (no `[]`), as kit's info filter. */
import { CairnError } from '../core/errors.js';
import type { Kitfile } from './kitfile.js';

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
