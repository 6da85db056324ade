import { expect, test } from 'vitest';
import { jsonErrorOffset, jsonErrorPosition } from './json-error.js';

test('valid JSON has no error before its end', () => {
  for (const text of ['{}', ' [1, -2.5e3, "a\\"b", true, false, null, {"x": []}] ', '"s"'])
    expect(jsonErrorOffset(text)).toBe(text.length);
});

test('the first bad character is located by line and column', () => {
  expect(jsonErrorPosition('{\n  "a": 1,\n}')).toEqual({ line: 3, col: 1 });
  expect(jsonErrorPosition('{"a": 1 "b": 2}')).toEqual({ line: 1, col: 9 });
  expect(jsonErrorPosition('{"a": tru}')).toEqual({ line: 1, col: 10 });
  expect(jsonErrorPosition('{"a": [1, 2')).toEqual({ line: 1, col: 12 });
  expect(jsonErrorPosition('{"a": 1} x')).toEqual({ line: 1, col: 10 });
});
