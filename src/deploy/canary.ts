/**
 * `cairn deploy --canary STEPS`: a compact step list (`10,25,50` or `10:30s,50:1m`) turned into
 * a model's `rollout.steps` and written into the manifest in place, the way edit.ts writes a
 * digest: only the steps' bytes change (or a block is inserted), comments and layout survive.
 */
import { CairnError } from '../core/errors.js';
import {
  isMap,
  isScalar,
  isSeq,
  newLineCounter,
  parseDocument,
  yamlLib,
} from '../core/yaml-lib.js';

/** One `setWeight` and what follows it: a pause of `pause`, else one passing analysis check. */
export interface CanaryStep {
  /** percent of requests the candidate gets, 1–100, strictly increasing along the list */
  readonly weight: number;
  /** a duration as manifests write it (`30s`, `1m`); absent: wait for one passing analysis */
  readonly pause?: string;
}

/** The gates `--canary` adds when the model has none and a step waits for analysis. */
export const DEFAULT_ANALYSIS = '{ maxErrorRate: 1 }';

const STEP = /^(\d+)%?(?::(\d+)(ms|s|m|h)?)?$/;

/** `10,25,50` or `10:30s,50:1m` (a bare number after `:` is seconds). */
export function parseCanary(spec: string): CanaryStep[] {
  const hint =
    'Write weights in percent, each optionally followed by a pause: --canary 10,25,50 or --canary 10:30s,50:1m.';
  const items = spec.split(',').map((s) => s.trim());
  if (spec.trim() === '' || items.includes('')) {
    throw new CairnError('canary-invalid', `--canary '${spec}' has an empty step`, { hint });
  }
  let previous = 0;
  return items.map((item) => {
    const match = STEP.exec(item);
    if (match?.[1] === undefined) {
      throw new CairnError('canary-invalid', `--canary step '${item}' is not WEIGHT[:PAUSE]`, {
        hint,
      });
    }
    const weight = Number(match[1]);
    if (weight < 1 || weight > 100) {
      throw new CairnError('canary-invalid', `--canary weight ${match[1]} is not within 1–100`, {
        hint,
      });
    }
    if (weight <= previous) {
      throw new CairnError(
        'canary-invalid',
        `--canary weight ${String(weight)} does not step up from ${String(previous)}`,
        { hint: 'Weights only go up; the candidate is promoted after the last step.' },
      );
    }
    previous = weight;
    return match[2] === undefined ? { weight } : { weight, pause: `${match[2]}${match[3] ?? 's'}` };
  });
}

/** The steps as `--canary` writes them back (for commit messages). */
export function formatCanary(steps: readonly CanaryStep[]): string {
  return steps
    .map((s) => (s.pause === undefined ? String(s.weight) : `${String(s.weight)}:${s.pause}`))
    .join(',');
}

function stepLines(steps: readonly CanaryStep[]): string[] {
  return steps.flatMap((s) => [
    `- setWeight: ${String(s.weight)}`,
    s.pause === undefined ? '- analysis: {}' : `- pause: { duration: ${s.pause} }`,
  ]);
}

/**
 * `text` with model `model`'s `rollout.steps` set to `steps`. Adds `rollout.analysis`
 * ({@link DEFAULT_ANALYSIS}) when a step waits for analysis and the model declares no gates.
 * The model must already be in the file (edit.ts's setModelKit puts it there).
 */
export function setRolloutSteps(
  file: string,
  text: string,
  model: string,
  steps: readonly CanaryStep[],
): string {
  const at = ['spec', 'models', model];
  let out = text;
  const rollout = nodeAt(file, out, [...at, 'rollout']);
  if (rollout === undefined) {
    const lines = ['rollout:', '  steps:', ...stepLines(steps).map((l) => `    ${l}`)];
    out = insertEntry(file, out, at, lines);
  } else {
    const current = nodeAt(file, out, [...at, 'rollout', 'steps']);
    if (current === undefined) {
      out = insertEntry(
        file,
        out,
        [...at, 'rollout'],
        ['steps:', ...stepLines(steps).map((l) => `  ${l}`)],
      );
    } else {
      out = replaceSteps(file, out, [...at, 'rollout', 'steps'], steps);
    }
  }
  const needsGates = steps.some((s) => s.pause === undefined);
  if (needsGates && nodeAt(file, out, [...at, 'rollout', 'analysis']) === undefined) {
    out = insertEntry(
      file,
      out,
      [...at, 'rollout'],
      [`analysis: ${DEFAULT_ANALYSIS} # added by cairn deploy --canary; tune the gates here`],
    );
  }
  return out;
}

function parse(file: string, text: string) {
  const doc = parseDocument(text, { lineCounter: newLineCounter(), uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CairnError('manifest-invalid', `${file}: not valid YAML; fix it before deploying`);
  }
  return doc;
}

function nodeAt(file: string, text: string, keys: readonly string[]): unknown {
  const node = parse(file, text).getIn(keys, true);
  return node === null ? undefined : node;
}

/** Where a line starts, and how far `offset` is indented from it. */
function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** Replaces the steps list's bytes; a flow list stays one flow line, a block list a block. */
function replaceSteps(
  file: string,
  text: string,
  keys: readonly string[],
  steps: readonly CanaryStep[],
): string {
  const doc = parse(file, text);
  const node = doc.getIn(keys, true);
  if (!isSeq(node) || node.range === undefined || node.range === null) {
    throw new CairnError('manifest-invalid', `${file}: ${keys.join('.')} is not a list`, {
      hint: 'Make rollout.steps a list of steps (see docs/deploy.md), or remove it.',
    });
  }
  const [start, end] = node.range;
  if (node.flow === true) {
    const flow = steps.flatMap((s) => [
      `{ setWeight: ${String(s.weight)} }`,
      s.pause === undefined ? '{ analysis: {} }' : `{ pause: { duration: ${s.pause} } }`,
    ]);
    return `${text.slice(0, start)}[${flow.join(', ')}]${text.slice(end)}`;
  }
  const indent = ' '.repeat(column(text, start));
  const lines = stepLines(steps).map((l, i) => (i === 0 ? l : `${indent}${l}`));
  const tail = text.slice(end);
  // A block list's range ends after its last line's newline; keep exactly one there.
  const newline = text[end - 1] === '\n' ? '\n' : '';
  return `${text.slice(0, start)}${lines.join('\n')}${newline}${tail}`;
}

/**
 * Adds `lines` (relative to the mapping's own indentation) as a new last entry of the block
 * mapping at `keys`, after its last line; a flow mapping is rewritten by the YAML library.
 */
function insertEntry(
  file: string,
  text: string,
  keys: readonly string[],
  lines: readonly string[],
): string {
  const doc = parse(file, text);
  const map = doc.getIn(keys, true);
  if (!isMap(map)) {
    throw new CairnError('manifest-invalid', `${file}: ${keys.join('.')} is not a mapping`);
  }
  const key: unknown = map.items[0]?.key;
  const first = isScalar(key) ? key : undefined;
  if (
    map.flow === true ||
    map.range === undefined ||
    map.range === null ||
    first?.range === undefined ||
    first.range === null
  ) {
    const parsed = yamlLib().parse(lines.join('\n')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed)) doc.setIn([...keys, k], doc.createNode(v));
    return doc.toString();
  }
  const indent = ' '.repeat(column(text, first.range[0]));
  const end = map.range[1];
  const lead = end > 0 && text[end - 1] !== '\n' ? '\n' : '';
  const block = lines.map((l) => `${indent}${l}\n`).join('');
  return `${text.slice(0, end)}${lead}${block}${text.slice(end)}`;
}
