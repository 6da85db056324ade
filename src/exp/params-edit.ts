/**
 * Writes `-S` assignments into params files (YAML keeping its comments and layout, JSON,
 * TOML). A key the file lacks is added, as DVC does, and reported so a typo does not pass silently.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { CairnError, ManifestError } from '../core/errors.js';
import {
  isMap,
  isScalar,
  isSeq,
  newLineCounter,
  parseDocument,
  yamlLib,
  yamlMessage,
} from '../core/yaml-lib.js';
import type { Assignment } from './overrides.js';

/** What applying a set of assignments changed. */
export interface ParamsEdit {
  /** `file:key` of keys the files did not have (added) */
  added: string[];
  /** params files created because they did not exist */
  created: string[];
}

/** Applies `assignments` to the params files under `root`. */
export function applyAssignments(root: string, assignments: readonly Assignment[]): ParamsEdit {
  const edit: ParamsEdit = { added: [], created: [] };
  const byFile = new Map<string, Assignment[]>();
  for (const a of assignments) byFile.set(a.file, [...(byFile.get(a.file) ?? []), a]);
  for (const [file, list] of byFile) {
    const abs = path.resolve(root, file);
    if (path.relative(root, abs).startsWith('..'))
      throw new CairnError('path-outside-repo', `-S names ${file}, outside the repository`, {
        hint: 'Name a params file inside the repository, relative to its root.',
      });
    let text = '';
    if (fs.existsSync(abs)) text = fs.readFileSync(abs, 'utf8');
    else edit.created.push(file);
    const ext = path.extname(file).toLowerCase();
    const out =
      ext === '.json'
        ? editPlain(
            file,
            text,
            list,
            edit,
            (t) => JSON.parse(t) as unknown,
            (v) => `${JSON.stringify(v, null, 2)}\n`,
          )
        : ext === '.toml'
          ? editPlain(
              file,
              text,
              list,
              edit,
              (t) => parseToml(t),
              (v) => `${stringifyToml(v)}\n`,
            )
          : editYaml(file, text, list, edit);
    fs.writeFileSync(abs, out);
  }
  return edit;
}

/** The value text as YAML reads it: `0.1` a float, `true` a boolean, `abc` a string. */
function valueNode(text: string): unknown {
  return yamlLib().parseDocument(text === '' ? "''" : text).contents;
}

function editYaml(file: string, text: string, list: Assignment[], edit: ParamsEdit): string {
  const lines = newLineCounter();
  // An empty file becomes an empty block mapping to add keys to.
  const source = text.trim() === '' ? '{}\n' : text;
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const p = lines.linePos(err.pos[0]);
    throw new ManifestError(file, p.line, p.col, yamlMessage(err.message));
  }
  if (source !== text && isMap(doc.contents)) doc.contents.flow = false;
  for (const a of list) {
    const keyPath: unknown[] = [];
    let node: unknown = doc.contents;
    for (const part of a.key.split('.')) {
      const index = isSeq(node) && /^\d+$/.test(part) ? Number(part) : part;
      keyPath.push(index);
      node = isMap(node) || isSeq(node) ? node.get(index, true) : undefined;
    }
    const value = valueNode(a.value);
    if (isScalar(node) && isScalar(value)) {
      // Keep the node, so its comment and position stay; take the new value's form.
      node.value = value.value;
      delete node.type;
      delete node.format;
      delete node.minFractionDigits;
      if (value.type !== undefined) node.type = value.type;
      if (value.format !== undefined) node.format = value.format;
      if (value.minFractionDigits !== undefined) node.minFractionDigits = value.minFractionDigits;
      continue;
    }
    if (!doc.hasIn(keyPath)) edit.added.push(`${a.file}:${a.key}`);
    doc.setIn(keyPath, value);
  }
  return doc.toString();
}

function editPlain(
  file: string,
  text: string,
  list: Assignment[],
  edit: ParamsEdit,
  parse: (t: string) => unknown,
  dump: (v: Record<string, unknown>) => string,
): string {
  let data: Record<string, unknown> = {};
  if (text.trim() !== '') {
    try {
      data = parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new ManifestError(
        file,
        1,
        1,
        (error as Error).message.split('\n')[0] ?? 'invalid file',
      );
    }
  }
  for (const a of list) {
    const parts = a.key.split('.');
    let cur: Record<string, unknown> = data;
    for (const part of parts.slice(0, -1)) {
      const next = cur[part];
      if (typeof next !== 'object' || next === null) {
        cur[part] = {};
      }
      cur = cur[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1] ?? a.key;
    if (!Object.hasOwn(cur, last)) edit.added.push(`${a.file}:${a.key}`);
    cur[last] = yamlLib().parse(a.value === '' ? "''" : a.value) as unknown;
  }
  return dump(data);
}
