/**
 * Builds and runs the test-only Go program in test/golden/go (standard library only), which
 * writes reference tar layers with Go's archive/tar and marshals configs with encoding/json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE = path.resolve(import.meta.dirname, '..', 'golden', 'go');

/** False only when Go is missing and CI did not ask for every tool (CAIRN_REQUIRE_TOOLS). */
export const HAVE_GO = (() => {
  if (process.env.CAIRN_REQUIRE_TOOLS === '1') return true;
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let binary: string | undefined;

function build(): string {
  if (binary !== undefined) return binary;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-golden-'));
  const out = path.join(dir, 'golden');
  execFileSync('go', ['build', '-o', out, '.'], {
    cwd: SOURCE,
    env: {
      ...process.env,
      GOCACHE: path.join(os.tmpdir(), 'cairn-golden-gocache'),
      GOFLAGS: '',
      GO111MODULE: 'on',
      GOPROXY: 'off',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  binary = out;
  return out;
}

/** sha256 hex and size of the layer Go builds for `layerPath` in `contextDir`. */
export function goLayer(
  contextDir: string,
  layerPath: string,
  excluded: string[] = [],
  outFile?: string,
): { sha256: string; size: number } {
  const text = execFileSync(build(), ['layer', contextDir, layerPath, ...excluded], {
    encoding: 'utf8',
    env: { ...process.env, GOLDEN_OUT: outFile ?? '' },
  });
  const [sha256 = '', size = '0'] = text.trim().split(' ');
  return { sha256, size: Number(size) };
}

/** The bytes Go writes for each header (no data). */
export function goHeaders(
  specs: { name: string; type: 'file' | 'dir'; mode: number; size: number }[],
): Buffer[] {
  const text = execFileSync(build(), ['headers'], {
    input: specs.map((s) => JSON.stringify(s)).join('\n') + '\n',
    encoding: 'utf8',
  });
  return text
    .trim()
    .split('\n')
    .map((h) => Buffer.from(h, 'hex'));
}

/** Go's json.Marshal of the Kitfile structs, from a JSON rendering of the Kitfile. */
export function goConfig(kitfileJson: string): string {
  return execFileSync(build(), ['config'], { input: kitfileJson, encoding: 'utf8' });
}
