/**
 * Staged parsing of user-written YAML manifests (serve configs, environment manifests): YAML
 * with positions, then a zod schema, with every failure reported as a `ManifestError` at the
 * `file:line:col` of the offending value (or key, for an unknown key). Normalisation and named
 * rules stay with each manifest; they locate their own errors with `Located.at`.
 */
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { ManifestError } from './errors.js';
import { newLineCounter, parseDocument, yamlLib, yamlMessage } from './yaml-lib.js';

export type ManifestPath = readonly PropertyKey[];

/** A schema-checked manifest and the means to point into its text. */
export interface Located<T> {
  readonly file: string;
  readonly value: T;
  /** A `ManifestError` at the value under `path` (the nearest existing ancestor if absent). */
  error(path: ManifestPath, message: string, hint?: string, key?: boolean): ManifestError;
}

/** Parses `text` (named `file` in messages) as YAML and checks it against `schema`. */
export function parseManifest<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): Located<z.output<S>> {
  const lines = newLineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const position = (node: Node | undefined): [number, number] => {
    const p = lines.linePos(node?.range?.[0] ?? 0);
    return [p.line, p.col];
  };
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const p = lines.linePos(yamlError.pos[0]);
    throw new ManifestError(file, p.line, p.col, yamlMessage(yamlError.message), {
      hint: 'Fix the YAML syntax at that position.',
    });
  }
  const error = (path: ManifestPath, message: string, hint?: string, key = false) => {
    const [line, col] = position(nodeAt(doc, path, key));
    return new ManifestError(file, line, col, message, hint === undefined ? {} : { hint });
  };
  const parsed = schema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) throw new Error('Internal error: zod failed without an issue');
    throw issueError(issue, error);
  }
  return { file, value: parsed.data, error };
}

function issueError(issue: z.core.$ZodIssue, error: Located<unknown>['error']): ManifestError {
  const where = issue.path.length === 0 ? 'the document' : `'${dotted(issue.path)}'`;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return error(
      [...issue.path, key],
      `unknown key '${key}' in ${where}`,
      'Remove it, or check its spelling against the documented keys.',
      true,
    );
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return error(issue.path, `${where} is required (${issue.expected})`);
  }
  return error(issue.path, `${where}: ${issue.message}`);
}

/** `models[0].versions[1].source` */
export function dotted(path: ManifestPath): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${String(p)}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/**
 * The node under `path`, or its nearest existing ancestor. With `key`, the last step names a
 * mapping key and the key itself is returned (an unknown key is shown where it was written).
 */
function nodeAt(doc: Document.Parsed, path: ManifestPath, key = false): Node | undefined {
  const { isMap, isSeq, isScalar } = yamlLib();
  let node = doc.contents as Node | null;
  // A missing step is shown at the key its parent mapping was written under.
  let parentKey: Node | undefined;
  for (const [i, part] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (pair === undefined) return parentKey ?? node;
      const last = i === path.length - 1;
      parentKey = pair.key as Node;
      node = ((key && last) || pair.value === null ? pair.key : pair.value) as Node;
    } else if (isSeq(node) && typeof part === 'number' && node.items[part] !== undefined) {
      node = node.items[part] as Node;
    } else {
      return parentKey ?? node ?? undefined;
    }
  }
  return node ?? undefined;
}
