// The Kitfile `unpack` writes reads back as the same Kitfile, whatever its strings hold, and
// numbers take Go's %g form as yaml.v3 writes them after a JSON round trip.
import { describe, expect, it } from 'vitest';
import { goFormatG, goJson, goString } from '../oci/gojson.js';
import { kitfileFromConfigJson, kitfileToConfigJson, type Kitfile } from './kitfile.js';
import { parseKitfile } from './kitfile-parse.js';
import { kitfileToYaml, yamlString } from './kitfile-yaml.js';

describe('kitfileToYaml', () => {
  it('round-trips awkward strings through the strict parser', () => {
    // ('' is left out: an empty string is omitted, as Go's omitempty does)
    const tricky = [
      'true',
      'no',
      '1.0',
      '0x1F',
      'null',
      '~',
      '- dash',
      ': colon',
      'a: b',
      'x #y',
      ' lead',
      'trail ',
      "it's",
      '"q"',
      '[list]',
      '{map}',
      '@at',
      '`tick`',
      'line\nbreak',
      'tab\there',
      'ünïcode',
      '2001-12-14',
      '*star',
      '&amp',
      '!tag',
      '%pct',
      '|pipe',
      '>gt',
      '?q',
    ];
    const k: Kitfile = {
      manifestVersion: '1.0.0',
      package: { name: 'p', authors: tricky.slice(0, 6) },
      code: tricky.map((t, i) => ({ path: `c${i}`, description: t })),
      docs: [{ path: '' }],
    };
    const text = kitfileToYaml(k);
    const back = parseKitfile('Kitfile', text).kitfile;
    expect(back).toEqual(k);
    expect(kitfileToConfigJson(back)).toBe(kitfileToConfigJson(k));
  });

  it('writes parameters read from a config as yaml.v3 does (%g floats, YAML 1.1 bools quoted)', () => {
    const k = kitfileFromConfigJson(
      '{"manifestVersion":"1.0.0","package":{},"model":{"path":"m","parameters":{"epochs":1000000,"lr":0.0001,"tiny":1e-7,"n":12,"list":[1,"a",true,null],"nested":{"b":{}}}}}',
      'test',
    );
    expect(kitfileToYaml(k)).toBe(`manifestVersion: 1.0.0
model:
  path: m
  parameters:
    epochs: 1e+06
    list:
      - 1
      - a
      - true
      - null
    lr: 0.0001
    "n": 12
    nested:
      b: {}
    tiny: 1e-07
`);
  });
});

describe('Go formatting helpers', () => {
  it('formats floats like strconv.FormatFloat(f, g, -1, 64)', () => {
    expect(
      [0, 1, 123456, 1e6, 1234567, 0.0001, 0.00001, 1.5e-10, 1e21, -2.5].map(goFormatG),
    ).toEqual([
      '0',
      '1',
      '123456',
      '1e+06',
      '1.234567e+06',
      '0.0001',
      '1e-05',
      '1.5e-10',
      '1e+21',
      '-2.5',
    ]);
  });

  it('writes JSON like encoding/json', () => {
    expect(goJson({ b: 1e21, a: [1e-7, 0.5, 100], c: '<&>\u2028' })).toBe(
      '{"a":[1e-7,0.5,100],"b":1e+21,"c":"\\u003c\\u0026\\u003e\\u2028"}',
    );
    expect(goString('\u0001\t"\\')).toBe('"\\u0001\\t\\"\\\\"');
  });

  it('quotes only strings that would not read back as strings', () => {
    expect(yamlString('plain words')).toBe('plain words');
    expect(yamlString('1.0')).toBe('"1.0"');
    expect(yamlString('a: b')).toBe("'a: b'");
  });
});
