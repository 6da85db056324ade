/**
 * A Kitfile written back as YAML the way kit's yaml.v3 encoder does (2-space indent, struct
 * order, omitempty, `authors` in flow style, floats in Go's %g form): what `unpack` writes.
 */
import { goFormatG, type GoValue } from '../oci/gojson.js';
import type { Kitfile, LayerInfo } from './kitfile.js';

const RESOLVES_NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:0|[1-9][0-9_]*)|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|\d{4}-\d\d?-\d\d?(?:[Tt ].*)?)$/;

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0').toUpperCase()}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A string scalar: plain when yaml.v3 would keep it plain, else quoted. */
export function yamlString(s: string): string {
  if (s === '' || RESOLVES_NON_STRING.test(s)) return doubleQuoted(s);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return doubleQuoted(s);
  const plainUnsafe =
    /^[-?:,[\]{}#&*!|>'"%@`]/.test(s) && !/^[-?:][^\s]/.test(s)
      ? true
      : /^\s|\s$|: |:$| #|^[,[\]{}#&*!|>'"%@`]/.test(s);
  if (plainUnsafe) return `'${s.replace(/'/g, "''")}'`;
  return s;
}

function scalar(v: GoValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number')
    return Number.isInteger(v) && Math.abs(v) < 1e21 && Math.abs(v) < 1e6
      ? String(v)
      : goFormatG(v);
  if (typeof v === 'string') return yamlString(v);
  throw new Error('Internal error: not a scalar');
}

/** Emits `value` under a key at `indent` (the key is already written, without a newline). */
function emitValue(v: GoValue, indent: string, lines: string[], head: string): void {
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) {
      const arr = v as readonly GoValue[];
      if (arr.length === 0) {
        lines.push(`${head} []`);
        return;
      }
      lines.push(head);
      for (const item of arr) emitItem(item, `${indent}  `, lines);
      return;
    }
    const obj = v as Readonly<Record<string, GoValue>>;
    const keys = Object.keys(obj).sort();
    if (keys.length === 0) {
      lines.push(`${head} {}`);
      return;
    }
    lines.push(head);
    for (const k of keys)
      emitValue(obj[k] ?? null, `${indent}  `, lines, `${indent}  ${yamlString(k)}:`);
    return;
  }
  lines.push(`${head} ${scalar(v)}`);
}

/** A sequence item `- …` at `indent`; mappings start on the dash line. */
function emitItem(v: GoValue, indent: string, lines: string[]): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const obj = v as Readonly<Record<string, GoValue>>;
    const keys = Object.keys(obj).sort();
    if (keys.length === 0) {
      lines.push(`${indent}- {}`);
      return;
    }
    keys.forEach((k, i) => {
      const head = i === 0 ? `${indent}- ${yamlString(k)}:` : `${indent}  ${yamlString(k)}:`;
      emitValue(obj[k] ?? null, `${indent}  `, lines, head);
    });
    return;
  }
  if (Array.isArray(v)) {
    const sub: string[] = [];
    for (const item of v as readonly GoValue[]) emitItem(item, `${indent}  `, sub);
    if (sub.length === 0) lines.push(`${indent}- []`);
    else lines.push(`${indent}- ${(sub[0] ?? '').trimStart()}`, ...sub.slice(1));
    return;
  }
  lines.push(`${indent}- ${scalar(v)}`);
}

type Field = [
  key: string,
  value: string | string[] | GoValue | undefined,
  kind?: 'flow' | 'any' | 'keep',
];

function emitStruct(
  fields: readonly Field[],
  indent: string,
  lines: string[],
  firstPrefix?: string,
): void {
  let first = true;
  for (const [key, value, kind] of fields) {
    if (value === undefined) continue;
    if (
      kind !== 'keep' &&
      kind !== 'any' &&
      (value === '' || (Array.isArray(value) && value.length === 0))
    )
      continue;
    const prefix = first && firstPrefix !== undefined ? firstPrefix : indent;
    first = false;
    if (kind === 'flow') {
      lines.push(`${prefix}${key}: [${(value as string[]).map(yamlString).join(', ')}]`);
    } else {
      emitValue(value, indent, lines, `${prefix}${key}:`);
    }
  }
}

function layer(e: LayerInfo, withLayerInfo: boolean): Field[] {
  return withLayerInfo
    ? [
        ['digest', e.digest],
        ['diffId', e.diffId],
      ]
    : [];
}

/** The Kitfile as YAML text; with `withLayerInfo`, digests are kept (for `info`). */
export function kitfileToYaml(k: Kitfile, withLayerInfo = false): string {
  const lines: string[] = [];
  lines.push(`manifestVersion: ${yamlString(k.manifestVersion)}`);
  const p = k.package;
  const pkgFields: Field[] = [
    ['name', p.name],
    ['version', p.version],
    ['description', p.description],
    ['license', p.license],
    ['authors', p.authors, 'flow'],
  ];
  if (
    pkgFields.some(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0))
  ) {
    lines.push('package:');
    emitStruct(pkgFields, '  ', lines);
  }
  const list = (
    key: string,
    items: readonly object[] | undefined,
    fields: (e: never) => Field[],
  ) => {
    if (items === undefined || items.length === 0) return;
    lines.push(`${key}:`);
    for (const item of items) emitStruct(fields(item as never), '    ', lines, '  - ');
  };
  if (k.model !== undefined) {
    const m = k.model;
    lines.push('model:');
    const before = lines.length;
    emitStruct(
      [
        ['name', m.name],
        ['path', m.path],
        ['license', m.license],
        ['framework', m.framework],
        ['format', m.format],
        ['version', m.version],
        ['description', m.description],
      ],
      '  ',
      lines,
    );
    if (m.parts !== undefined && m.parts.length > 0) {
      lines.push('  parts:');
      for (const part of m.parts) {
        emitStruct(
          [
            ['name', part.name],
            ['path', part.path],
            ['license', part.license],
            ['type', part.type],
            ...layer(part, withLayerInfo),
          ],
          '      ',
          lines,
          '    - ',
        );
      }
    }
    if (m.parameters !== undefined) emitValue(m.parameters, '  ', lines, '  parameters:');
    emitStruct(layer(m, withLayerInfo), '  ', lines);
    if (lines.length === before) lines[lines.length - 1] = 'model: {}';
  }
  list('code', k.code, (c: NonNullable<Kitfile['code']>[number]) => [
    ['path', c.path],
    ['description', c.description],
    ['license', c.license],
    ...layer(c, withLayerInfo),
  ]);
  list('datasets', k.datasets, (d: NonNullable<Kitfile['datasets']>[number]) => [
    ['name', d.name],
    ['path', d.path],
    ['remotePath', d.remotePath],
    ['remoteHash', d.remoteHash],
    ['description', d.description],
    ['license', d.license],
    ['parameters', d.parameters, 'any'],
    ...layer(d, withLayerInfo),
  ]);
  list('docs', k.docs, (d: NonNullable<Kitfile['docs']>[number]) => [
    ['path', d.path, 'keep'],
    ['description', d.description],
    ...layer(d, withLayerInfo),
  ]);
  list('prompts', k.prompts, (d: NonNullable<Kitfile['prompts']>[number]) => [
    ['name', d.name],
    ['path', d.path],
    ['description', d.description],
    ...layer(d, withLayerInfo),
  ]);
  list('mcpServers', k.mcpServers, (d: NonNullable<Kitfile['mcpServers']>[number]) => [
    ['name', d.name],
    ['path', d.path],
    ['description', d.description],
    ...layer(d, withLayerInfo),
  ]);
  return `${lines.join('\n')}\n`;
}
