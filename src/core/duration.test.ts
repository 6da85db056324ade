import { expect, test } from 'vitest';
import { CairnError } from './errors.js';
import { parseDuration } from './duration.js';

test('durations in every unit, decimals and bare seconds', () => {
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('30s')).toBe(30_000);
  expect(parseDuration('1.5m')).toBe(90_000);
  expect(parseDuration('1h')).toBe(3_600_000);
  expect(parseDuration('2')).toBe(2000);
});

test('anything else is a duration-invalid error that shows how to write one', () => {
  const error = (() => {
    try {
      return parseDuration('soon');
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(CairnError);
  expect((error as CairnError).code).toBe('duration-invalid');
  expect((error as CairnError).message).toBe("'soon' is not a duration");
  expect((error as CairnError).hint).toContain('500ms, 30s, 2m or 1h');
});
