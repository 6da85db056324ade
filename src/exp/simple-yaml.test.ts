/** The params fast path agrees with the full YAML parser, and hands it everything else. */
import { describe, expect, test } from 'vitest';
import { parseParams } from '../pipeline/params.js';
import { flattenSimpleYaml } from './simple-yaml.js';
import { flattenValues } from './values.js';

/** The full parser's answer, without the fast path. */
function full(text: string): unknown {
  return flattenValues(
    'params.json',
    JSON.stringify(toPlain(parseParams('params.yaml', text))),
    true,
  );
}

function toPlain(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && 'value' in v && Object.keys(v).length === 1)
    return v.value;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

describe('flattenSimpleYaml', () => {
  const simple = [
    '# settings\ntrain:\n  lr: 0.1   # learning rate\n  epochs: 10\n  seed: -3\n',
    'prepare:\n  split: 0.25\n  name: churn data\n  on: true\n  off: False\n  none: ~\n  empty:\ntop: 1e-3\n',
    "a:\n  b:\n    c: 'it''s'\n    d: x#y\n  e: .5\nf: +7\n",
    '',
    'a:\n',
  ];
  test.each(simple)('agrees with the YAML parser on %j', (text) => {
    const fast = flattenSimpleYaml(text);
    expect(fast).toBeDefined();
    expect(fast).toEqual(full(text));
  });

  const others = [
    'layers:\n  - 1\n  - 2\n',
    'a: [1, 2]\n',
    'a: &x 1\nb: *x\n',
    'a: "quoted\\n"\n',
    'a: |\n  text\n',
    'a: .inf\n',
    'a: 0x1f\n',
    'a:\n\tb: 1\n',
    'a: 1\na: 2\n',
    '  a: 1\n',
    'a: 123456789012345678901\n',
  ];
  test.each(others)('leaves %j to the full parser', (text) => {
    expect(flattenSimpleYaml(text)).toBeUndefined();
  });
});
