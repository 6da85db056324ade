/**
 * kit's Kitfile validation rules (KitOps §1.3) as small named checks over a parsed Kitfile.
 * Every problem points at `Kitfile:line:col`; all are reported at once, sorted, like kit.
 */
import path from 'node:path';
import { ManifestError } from '../core/errors.js';
import { isModelKitReference } from '../oci/reference.js';
import type { ParsedKitfile, Position } from './kitfile-parse.js';

export interface KitfileProblem {
  /** key of the value in {@link ParsedKitfile.positions} */
  at: string;
  message: string;
}

const PART_TYPE = /^\w[\w.-]*$/;

/** Cleans a Kitfile path as Go's filepath.Clean does; an empty path is the context itself. */
export function cleanPath(p: string): string {
  return path.posix.normalize(p === '' ? '.' : p).replace(/(.)\/+$/, '$1');
}

type PathKind = 'local' | 'modelkit' | 's3' | 'http';

function pathKind(p: string): PathKind {
  if (p.startsWith('s3://')) return 's3';
  if (/^https?:\/\//i.test(p)) return 'http';
  if (isModelKitReference(p)) return 'modelkit';
  return 'local';
}

interface Entry {
  at: string;
  path: string | undefined;
  /** where a ModelKit reference is allowed */
  allowRef: boolean;
  /** counted in the duplicate-path check (prompts are not) */
  unique: boolean;
}

/** Returns problems and warnings; the Kitfile is valid when there are no problems. */
export function validateKitfile(parsed: ParsedKitfile): {
  problems: KitfileProblem[];
  warnings: KitfileProblem[];
} {
  const k = parsed.kitfile;
  const problems: KitfileProblem[] = [];
  const warnings: KitfileProblem[] = [];
  if (k.manifestVersion !== '1.0.0') {
    warnings.push({
      at: 'manifestVersion',
      message: `manifestVersion is "${k.manifestVersion}"; kit expects "1.0.0"`,
    });
  }
  const entries: Entry[] = [];
  if (k.model !== undefined)
    entries.push({ at: 'model.path', path: k.model.path, allowRef: true, unique: true });
  k.model?.parts?.forEach((p, i) =>
    entries.push({ at: `model.parts[${i}].path`, path: p.path, allowRef: false, unique: true }),
  );
  k.code?.forEach((c, i) =>
    entries.push({ at: `code[${i}].path`, path: c.path, allowRef: false, unique: true }),
  );
  k.datasets?.forEach((d, i) =>
    entries.push({ at: `datasets[${i}].path`, path: d.path, allowRef: false, unique: true }),
  );
  k.docs?.forEach((d, i) =>
    entries.push({ at: `docs[${i}].path`, path: d.path, allowRef: false, unique: true }),
  );
  k.prompts?.forEach((p, i) =>
    entries.push({ at: `prompts[${i}].path`, path: p.path, allowRef: false, unique: false }),
  );
  k.mcpServers?.forEach((m, i) =>
    entries.push({ at: `mcpServers[${i}].path`, path: m.path, allowRef: false, unique: true }),
  );

  const seen = new Map<string, string>();
  for (const e of entries) {
    const p = e.path ?? '';
    const kind = pathKind(p);
    if (kind === 'http') {
      problems.push({ at: e.at, message: `${e.at}: http(s) URLs are not supported: ${p}` });
      continue;
    }
    if (kind === 's3') {
      problems.push({
        at: e.at,
        message: `${e.at}: S3 URLs are allowed only in datasets[].remotePath: ${p}`,
      });
      continue;
    }
    if (kind === 'modelkit') {
      if (!e.allowRef) {
        problems.push({
          at: e.at,
          message: `${e.at}: a ModelKit reference is allowed only in model.path: ${p}`,
        });
      }
      continue;
    }
    if (path.posix.isAbsolute(p) || path.win32.isAbsolute(p)) {
      problems.push({ at: e.at, message: `${e.at}: absolute paths are not allowed: ${p}` });
      continue;
    }
    const clean = cleanPath(p);
    if (clean === '..' || clean.startsWith('../')) {
      problems.push({
        at: e.at,
        message: `${e.at}: path ${p} is outside the context directory`,
      });
      continue;
    }
    if (!e.unique) continue;
    const first = seen.get(clean);
    if (first !== undefined) {
      problems.push({ at: e.at, message: `${e.at}: duplicate path ${clean} (also in ${first})` });
    } else {
      seen.set(clean, e.at);
    }
  }

  k.model?.parts?.forEach((part, i) => {
    const t = part.type;
    if (t !== undefined && t !== '' && (!PART_TYPE.test(t) || t.length > 64)) {
      problems.push({
        at: `model.parts[${i}].type`,
        message: `model.parts[${i}].type "${t}" must match ^[\\w][\\w.-]*$ and be at most 64 characters`,
      });
    }
  });

  k.datasets?.forEach((d, i) => {
    const where = `datasets[${i}]`;
    if (d.remoteHash !== undefined && d.remotePath === undefined) {
      problems.push({
        at: `${where}.remoteHash`,
        message: `${where}: remoteHash without remotePath`,
      });
    }
    if (d.remotePath === undefined) return;
    const kind = pathKind(d.remotePath);
    if (kind === 's3') {
      if (d.remoteHash === undefined || d.remoteHash === '') {
        problems.push({
          at: `${where}.remotePath`,
          message: `${where}: an S3 remotePath requires remoteHash (the object's ETag)`,
        });
      }
    } else if (kind === 'modelkit') {
      if (d.remoteHash !== undefined)
        warnings.push({
          at: `${where}.remoteHash`,
          message: `${where}: remoteHash is ignored for a ModelKit reference`,
        });
    } else {
      problems.push({
        at: `${where}.remotePath`,
        message: `${where}: remotePath must be an s3:// URL or a ModelKit reference`,
      });
    }
    const remote = cleanPath(d.path ?? '');
    for (const e of entries) {
      if (e.at === `${where}.path` || e.path === undefined || pathKind(e.path) !== 'local')
        continue;
      const other = cleanPath(e.path);
      if (other === remote || other.startsWith(`${remote}/`) || remote === '.') {
        problems.push({
          at: e.at,
          message: `${e.at}: ${other} lies inside the remote dataset ${where} (${remote})`,
        });
      }
    }
  });

  const names = new Set<string>();
  k.mcpServers?.forEach((m, i) => {
    const where = `mcpServers[${i}]`;
    if (m.name === undefined || m.name === '') {
      problems.push({ at: where, message: `${where}: a name is required` });
    } else if (names.has(m.name)) {
      problems.push({ at: `${where}.name`, message: `${where}: duplicate name ${m.name}` });
    } else {
      names.add(m.name);
    }
    if (m.path === undefined || !m.path.endsWith('.mcpb')) {
      problems.push({ at: `${where}.path`, message: `${where}: the path must end with .mcpb` });
    }
  });
  problems.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  return { problems, warnings };
}

/** Where a problem was written (falls back to the enclosing entry, then the top). */
export function positionOf(parsed: ParsedKitfile, at: string): Position {
  let key = at;
  for (;;) {
    const p = parsed.positions.get(key);
    if (p !== undefined) return p;
    const cut = Math.max(key.lastIndexOf('.'), key.lastIndexOf('['));
    if (cut <= 0) return { line: 1, col: 1 };
    key = key.slice(0, cut);
  }
}

/** Throws one ManifestError listing every problem (the first one's position in front). */
export function assertValidKitfile(
  parsed: ParsedKitfile,
  warn: (message: string) => void = () => undefined,
): void {
  const { problems, warnings } = validateKitfile(parsed);
  for (const w of warnings) {
    const p = positionOf(parsed, w.at);
    warn(`${parsed.file}:${p.line}:${p.col}: ${w.message}`);
  }
  // kit sorts by message; we show them in file order so the first points at the first problem.
  const located = problems
    .map((q) => ({ q, p: positionOf(parsed, q.at) }))
    .sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col);
  const first = located[0]?.q;
  if (first === undefined) return;
  const pos = positionOf(parsed, first.at);
  const rest = located
    .slice(1)
    .map(({ q, p }) => `\n  ${parsed.file}:${p.line}:${p.col}: ${q.message}`);
  throw new ManifestError(parsed.file, pos.line, pos.col, `${first.message}${rest.join('')}`, {
    hint: 'Fix the Kitfile; paths are relative to the context directory.',
  });
}
