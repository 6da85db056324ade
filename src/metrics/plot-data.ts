/**
 * Plot data files read into records as `dvc plots` reads them: JSON and YAML (a list of
 * records, or the first such list inside a map), CSV and TSV (a header row unless
 * `header: false`, then columns named by index); images are passed through as bytes.
 */
import path from 'node:path';
import { ManifestError } from '../core/errors.js';
import { jsonErrorPosition } from './json-error.js';
import { parseDocument, newLineCounter, yamlMessage } from '../core/yaml-lib.js';

export type PlotRecord = Record<string, unknown>;

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.gif', '.svg']);
const DATA_EXTENSIONS = new Set(['.json', '.yaml', '.yml', '.csv', '.tsv']);

export function isImage(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

export function isPlotFile(file: string): boolean {
  const ext = path.extname(file).toLowerCase();
  return IMAGE_EXTENSIONS.has(ext) || DATA_EXTENSIONS.has(ext);
}

/** Records of a data file; `where` names the revision in errors. */
export function parsePlotData(
  file: string,
  text: string,
  header: boolean,
  where = '',
): PlotRecord[] {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv')
    return parseDelimited(text, ext === '.tsv' ? '\t' : ',', header);
  let value: unknown;
  if (ext === '.json') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      const { line, col } = jsonErrorPosition(text);
      throw new ManifestError(file, line, col, `invalid JSON${where}: ${(error as Error).message}`);
    }
  } else {
    const lines = newLineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    const err = doc.errors[0];
    if (err !== undefined) {
      const p = lines.linePos(err.pos[0]);
      throw new ManifestError(file, p.line, p.col, `${yamlMessage(err.message)}${where}`);
    }
    value = doc.toJS() as unknown;
  }
  const list = firstList(value);
  if (list === undefined)
    throw new ManifestError(file, 1, 1, `no list of records to plot${where}`, {
      hint: 'A plot file holds a list of objects, or an object with such a list in it.',
    });
  return list.filter(
    (r): r is PlotRecord => r !== null && typeof r === 'object' && !Array.isArray(r),
  );
}

function firstList(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v as unknown[];
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) {
      const found = firstList(x);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** CSV/TSV with quoted fields; numeric cells become numbers so scales can use them. */
export function parseDelimited(text: string, sep: string, header: boolean): PlotRecord[] {
  const rows = splitRows(text, sep).filter((r) => !(r.length === 1 && r[0] === ''));
  if (rows.length === 0) return [];
  const names = header ? (rows[0] ?? []) : (rows[0] ?? []).map((_, i) => String(i));
  return rows.slice(header ? 1 : 0).map((cells) => {
    const rec: PlotRecord = {};
    names.forEach((n, i) => (rec[n] = cell(cells[i] ?? '')));
    return rec;
  });
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function cell(s: string): unknown {
  return NUMBER.test(s.trim()) ? Number(s) : s;
}

function splitRows(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
