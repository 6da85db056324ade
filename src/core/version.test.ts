import fs from 'node:fs';
import { expect, test } from 'vitest';
import { CAIRN_VERSION } from './version.js';

test('CAIRN_VERSION is the version package.json publishes', () => {
  const pkg = JSON.parse(
    fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as {
    version: string;
  };
  expect(CAIRN_VERSION).toBe(pkg.version);
});
