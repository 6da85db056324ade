/**
 * Parsed dvc.yaml and dvc.lock kept as JSON under `.cairn/tmp/parsed/`, keyed by the stat of
 * every file that went into them (the dvc.yaml, params and vars files, missing ones too):
 * parsing YAML is most of a no-op repro of 1,000 stages, and JSON.parse is ~50× cheaper.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/fs.js';
import { YamlFloat } from '../core/ruamel-yaml.js';

const VERSION = 2;
const FLOAT = '\u0000float';
const MAP = '\u0000map';

export function stampOf(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st === undefined ? '-' : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

interface Stored {
  v: number;
  inputs: [string, string][];
  value: unknown;
}

function memoFile(tmpDir: string, kind: string, key: string): string {
  return path.join(tmpDir, 'parsed', `${kind}-${createHash('md5').update(key).digest('hex')}.json`);
}

const replacer = function (this: unknown, _k: string, v: unknown): unknown {
  if (v instanceof YamlFloat) return { [FLOAT]: v.value };
  if (v instanceof Map) return { [MAP]: [...(v as Map<unknown, unknown>).entries()] };
  return v;
};

/** Undoes {@link replacer}; a walk in JS is several times faster than JSON.parse's reviver. */
function revive(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (FLOAT in o) return new YamlFloat(o[FLOAT] as number);
  if (MAP in o) return new Map(revive(o[MAP]) as [unknown, unknown][]);
  for (const k in o) o[k] = revive(o[k]);
  return o;
}

/** The remembered value when none of its inputs changed since, else undefined. */
export function recall(tmpDir: string, kind: string, key: string): unknown {
  let stored: Stored;
  try {
    const text = fs.readFileSync(memoFile(tmpDir, kind, key), 'utf8');
    stored = JSON.parse(text) as Stored;
    // Most memos hold no float or Map at all: skip the walk for them.
    if (text.includes('\\u0000')) stored.value = revive(stored.value);
  } catch {
    return undefined;
  }
  if (stored.v !== VERSION) return undefined;
  for (const [file, stamp] of stored.inputs) if (stampOf(file) !== stamp) return undefined;
  return stored.value;
}

/** Remembers a value computed from `inputs` (stamped now, before any later change). */
export function remember(
  tmpDir: string,
  kind: string,
  key: string,
  inputs: Iterable<[string, string]>,
  value: unknown,
): void {
  try {
    const file = memoFile(tmpDir, kind, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const stored: Stored = { v: VERSION, inputs: [...inputs], value };
    writeFileAtomicSync(file, JSON.stringify(stored, replacer));
  } catch {
    // a cache that cannot be written only costs speed
  }
}
