/**
 * A parser for the Prometheus text exposition format (version 0.0.4), enough to read the
 * workers' `/metrics`: samples with labels, escaped label values, special floats and optional
 * timestamps. `# HELP` and `# TYPE` lines are skipped; histograms arrive as their
 * `_bucket`/`_sum`/`_count` series, which is all the analysis needs.
 */
import { CairnError } from '../core/errors.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * A sample value as Prometheus reads it: Go's ParseFloat, so `NaN`, `Inf` and `Infinity` in any
 * case with an optional sign. prom-client writes NaN as `Nan` (an event-loop gauge with no
 * sample since the last scrape), which Prometheus accepts and so must we.
 */
export function parseFloatValue(text: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) {
    if (special[2]?.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new Error(`'${text}' is not a number`);
  return value;
}

/** All samples of `text`; `source` (a URL) names where a malformed line came from. */
export function parseExposition(text: string, source: string): Sample[] {
  const samples: Sample[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseLine(line));
    } catch (error) {
      throw new CairnError(
        'metrics-invalid',
        `${source}:${String(index + 1)}: ${(error as Error).message}: ${line.slice(0, 120)}`,
        { hint: 'The endpoint should serve Prometheus text format (text/plain; version=0.0.4).' },
      );
    }
  }
  return samples;
}

function parseLine(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error('no metric name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith('}')) {
        rest = rest.slice(1);
        break;
      }
      const label = LABEL.exec(rest)?.[0];
      if (label === undefined) throw new Error('bad label name');
      rest = rest.slice(label.length).trimStart();
      if (!rest.startsWith('="')) throw new Error(`label ${label} has no ="value"`);
      const [value, consumed] = readQuoted(rest.slice(2));
      labels[label] = value;
      rest = rest.slice(2 + consumed).trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error('expected , or } after a label');
    }
  }
  const [value] = rest.trim().split(/\s+/);
  if (value === undefined || value === '') throw new Error('no value');
  return { name, labels, value: parseFloatValue(value) };
}

/** The value up to the closing quote, unescaped, and how many characters it took. */
function readQuoted(text: string): [string, number] {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [out, i + 1];
    if (c === '\\') {
      const e = text[++i];
      out += e === 'n' ? '\n' : (e ?? '');
    } else {
      out += c ?? '';
    }
  }
  throw new Error('unterminated label value');
}
