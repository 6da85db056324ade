/** `-S` parsing and sweep expansion: the grid an experiment run or queue gets. */
import { describe, expect, test } from 'vitest';
import { expandGrid, parseOverride } from './overrides.js';

describe('parseOverride', () => {
  test('a key of params.yaml by default, or of the named file', () => {
    expect(parseOverride('train.lr=0.1')).toEqual({
      file: 'params.yaml',
      key: 'train.lr',
      values: ['0.1'],
    });
    expect(parseOverride('conf/p.json:model.depth=4')).toEqual({
      file: 'conf/p.json',
      key: 'model.depth',
      values: ['4'],
    });
    expect(parseOverride('+train.new=x')).toMatchObject({ key: 'train.new', values: ['x'] });
  });

  test('range() excludes stop and gives decimal values, not float noise', () => {
    expect(parseOverride('train.lr=range(0.1,1,0.1)').values).toEqual([
      '0.1',
      '0.2',
      '0.3',
      '0.4',
      '0.5',
      '0.6',
      '0.7',
      '0.8',
      '0.9',
    ]);
    expect(parseOverride('s=range(3)').values).toEqual(['0', '1', '2']);
    expect(parseOverride('s=range(10,0,-4)').values).toEqual(['10', '6', '2']);
    expect(parseOverride('x=range(1.0,3.0)').values).toEqual(['1.0', '2.0']);
  });

  test('comma lists and choice(); commas inside brackets or quotes do not split', () => {
    expect(parseOverride('e=1,2,3').values).toEqual(['1', '2', '3']);
    expect(parseOverride('m=choice(linear, tree)').values).toEqual(['linear', 'tree']);
    expect(parseOverride("n='a,b'").values).toEqual(["'a,b'"]);
    expect(parseOverride('l=[1,2]').values).toEqual(['[1,2]']);
  });

  test('malformed overrides say what is wrong and how to write one', () => {
    expect(() => parseOverride('train.lr')).toThrow("-S 'train.lr': no key=value");
    expect(() => parseOverride('=1')).toThrow('no key=value');
    expect(() => parseOverride('a..b=1')).toThrow("'a..b' is not a dotted key");
    expect(() => parseOverride('x=range(1,2,0)')).toThrow('step must not be 0');
    expect(() => parseOverride('x=range(5,1)')).toThrow('range() is empty');
    expect(() => parseOverride('x=choice()')).toThrow('choice() needs at least one value');
  });
});

test('expandGrid gives every combination, the first override slowest', () => {
  const grid = expandGrid([parseOverride('a=1,2'), parseOverride('b=x,y,z'), parseOverride('c=0')]);
  expect(grid.map((row) => row.map((x) => `${x.key}=${x.value}`).join(' '))).toEqual([
    'a=1 b=x c=0',
    'a=1 b=y c=0',
    'a=1 b=z c=0',
    'a=2 b=x c=0',
    'a=2 b=y c=0',
    'a=2 b=z c=0',
  ]);
  expect(expandGrid([])).toEqual([[]]);
});
