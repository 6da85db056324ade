/**
 * Layered configuration: built-in defaults < the user's file < the repository's
 * `.cairn/config.yaml` < its untracked `.cairn/config.local.yaml` < `CAIRN_<SECTION>_<KEY>`
 * environment variables. Every key is declared once in KEYS with its parser.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document, LineCounter } from 'yaml';
import { isMap, newLineCounter, parseDocument, yamlLib } from './yaml-lib.js';
import { CairnError, ManifestError, errnoCode } from './errors.js';
import { writeFileAtomic } from './fs.js';

export const LINK_TYPES = ['reflink', 'hardlink', 'symlink', 'copy'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

export interface Config {
  core: {
    /** Skip git integration (.gitignore edits, revision walks). */
    no_scm: boolean;
    /** seconds to wait for a lock held by another live process */
    lock_timeout: number;
    /** worker threads used for hashing; default: available cores */
    checksum_jobs: number;
    /** the data remote `exp push`/`exp pull` use when `-r` names none */
    remote: string | undefined;
  };
  cache: {
    /** absolute path of the object cache */
    dir: string;
    /** link strategies tried in order when checking files out of the cache */
    type: LinkType[];
    /** 'group' makes cache files group-writable, as DVC's cache.shared */
    shared: 'group' | undefined;
  };
  /**
   * Data remotes by name (`remote.<name>: <url>`): where cache objects are pushed to and pulled
   * from. A path (relative to the config file's folder) or a `file://` URL; other schemes are
   * kept as written and refused when used.
   */
  remote: Record<string, string>;
}

export type ConfigLevel = 'global' | 'repo' | 'local';

interface KeySpec {
  readonly description: string;
  /** Turns the text a user typed (CLI, env, YAML scalar) into the typed value. */
  parse(raw: unknown, baseDir: string): unknown;
  format(value: unknown): string;
}

function parseBool(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw new Error(`expected true or false, got '${String(raw)}'`);
}

function parsePositive(raw: unknown, integer: boolean): number {
  const n = typeof raw === 'number' ? raw : Number(String(raw));
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`expected a ${integer ? 'whole ' : ''}number ≥ 0, got '${String(raw)}'`);
  }
  return n;
}

function parseLinkTypes(raw: unknown): LinkType[] {
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  const types = items.map((t) => t.trim()).filter((t) => t !== '');
  if (types.length === 0)
    throw new Error('expected at least one of reflink, hardlink, symlink, copy');
  for (const t of types) {
    if (!(LINK_TYPES as readonly string[]).includes(t)) {
      throw new Error(
        `unknown link type '${t}'; use a comma-separated list of ${LINK_TYPES.join(', ')}`,
      );
    }
  }
  return types as LinkType[];
}

/** Data remote names: what DVC accepts in `dvc remote add NAME`, without dots (our key separator). */
const REMOTE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** A data remote's location: other schemes as written, paths resolved, `file://` as a path. */
function parseRemoteUrl(raw: unknown, baseDir: string): string {
  const text = String(raw).trim();
  if (text === '') throw new Error('expected a folder path or a URL');
  if (text.startsWith('file://')) return fileURLToPath(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  return path.resolve(baseDir, text);
}

export const KEYS: Readonly<Record<string, KeySpec>> = {
  'core.no_scm': { description: 'do not use git', parse: parseBool, format: String },
  'core.lock_timeout': {
    description: 'seconds to wait for a busy lock',
    parse: (raw) => parsePositive(raw, false),
    format: String,
  },
  'core.checksum_jobs': {
    description: 'hashing threads',
    parse: (raw) => Math.max(1, parsePositive(raw, true)),
    format: String,
  },
  'core.remote': {
    description: 'the default data remote (a name under remote.*)',
    parse: (raw) => {
      const name = String(raw).trim();
      if (!REMOTE_NAME.test(name)) throw new Error(`'${name}' is not a remote name`);
      return name;
    },
    format: String,
  },
  'cache.dir': {
    description: 'object cache directory (may be shared, or an existing .dvc/cache)',
    parse: (raw, baseDir) => path.resolve(baseDir, String(raw)),
    format: String,
  },
  'cache.type': {
    description: 'link types to try, in order',
    parse: parseLinkTypes,
    format: (v) => (v as string[]).join(','),
  },
  'cache.shared': {
    description: "'group' for a cache shared by a Unix group",
    parse: (raw) => {
      if (String(raw) !== 'group') throw new Error(`expected 'group', got '${String(raw)}'`);
      return 'group';
    },
    format: String,
  },
};

const REMOTE_SPEC: KeySpec = {
  description: 'a data remote: a folder path or file:// URL',
  parse: parseRemoteUrl,
  format: String,
};

/** The spec of a key: one of {@link KEYS}, or `remote.<name>` for any valid name. */
export function keySpec(key: string): KeySpec | undefined {
  const fixed = KEYS[key];
  if (fixed !== undefined) return fixed;
  const [section, name, ...rest] = key.split('.');
  return section === 'remote' && rest.length === 0 && name !== undefined && REMOTE_NAME.test(name)
    ? REMOTE_SPEC
    : undefined;
}

/** Every key that has a value in `config`, in table order, data remotes last. */
export function configKeys(config: Config): string[] {
  return [...Object.keys(KEYS), ...Object.keys(config.remote).map((n) => `remote.${n}`)];
}

/** What an unknown key's error lists. */
function knownKeysText(): string {
  return `${Object.keys(KEYS).join(', ')}, remote.<name>`;
}

export function defaultConfig(cairnDir: string): Config {
  return {
    core: {
      no_scm: false,
      lock_timeout: 60,
      checksum_jobs: os.availableParallelism(),
      remote: undefined,
    },
    cache: { dir: path.join(cairnDir, 'cache'), type: ['reflink', 'copy'], shared: undefined },
    remote: {},
  };
}

export interface ConfigSource {
  level: ConfigLevel | 'env' | 'default';
  /** the file or variable the value came from */
  origin: string;
}

export interface LoadedConfig {
  config: Config;
  origins: Map<string, ConfigSource>;
}

export function userConfigPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  return path.join(base, 'cairn', 'config.yaml');
}

export function configPath(
  level: ConfigLevel,
  cairnDir: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  if (level === 'global') return userConfigPath(env);
  if (cairnDir === undefined) {
    throw new CairnError('not-a-repo', 'Not inside a Cairn repository', {
      hint: 'Run `cairn init`, or use --global for the user configuration.',
    });
  }
  return path.join(cairnDir, level === 'repo' ? 'config.yaml' : 'config.local.yaml');
}

/**
 * Reads every layer; a malformed file or value is reported at its file:line:col. `env` holds
 * the CAIRN_* overrides and XDG_CONFIG_HOME; relative paths in variables resolve against `cwd`.
 */
export async function loadConfig(
  cairnDir: string | undefined,
  { env, cwd }: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<LoadedConfig> {
  const config = defaultConfig(cairnDir ?? path.resolve(cwd, '.cairn'));
  const origins = new Map<string, ConfigSource>();
  const levels: ConfigLevel[] = cairnDir === undefined ? ['global'] : ['global', 'repo', 'local'];
  for (const level of levels) {
    const file = configPath(level, cairnDir, env);
    const doc = await readConfigDocument(file, { skipEmpty: true });
    if (doc === undefined) continue;
    for (const [key, raw, pos] of flatten(doc.doc, doc.lines)) {
      applyKey(config, key, raw, path.dirname(file), (message) => {
        throw new ManifestError(file, pos.line, pos.col, message, {
          hint: `Fix the value with \`cairn config ${level === 'repo' ? '' : `--${level} `}${key} <value>\`.`,
        });
      });
      origins.set(key, { level, origin: file });
    }
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('CAIRN_') || raw === undefined) continue;
    const key = envKey(name);
    if (key === undefined) continue;
    applyKey(config, key, raw, cwd, (message) => {
      throw new CairnError('config-invalid', `Environment variable ${name}: ${message}`);
    });
    origins.set(key, { level: 'env', origin: name });
  }
  return { config, origins };
}

/** CAIRN_CACHE_DIR -> cache.dir; variables that name no known key are someone else's. */
function envKey(name: string): string | undefined {
  const rest = name.slice('CAIRN_'.length).toLowerCase();
  const dot = rest.indexOf('_');
  if (dot < 0) return undefined;
  const key = `${rest.slice(0, dot)}.${rest.slice(dot + 1)}`;
  return key in KEYS ? key : undefined;
}

function applyKey(
  config: Config,
  key: string,
  raw: unknown,
  baseDir: string,
  fail: (message: string) => never,
): void {
  const spec = keySpec(key);
  if (spec === undefined)
    fail(`unknown configuration key '${key}'; known keys: ${knownKeysText()}`);
  let value: unknown;
  try {
    value = spec.parse(raw, baseDir);
  } catch (error) {
    fail(`${key}: ${(error as Error).message}`);
  }
  const [section = '', name = ''] = key.split('.');
  const target = (config as unknown as Record<string, Record<string, unknown> | undefined>)[
    section
  ];
  if (target === undefined) throw new Error(`Internal error: no config section ${section}`);
  target[name] = value;
}

interface ConfigDocument {
  doc: Document;
  lines: LineCounter;
}

/** Only comments and blank lines: the file `cairn init` writes, read without a YAML parser. */
const NOTHING_SET = /^(?:[ \t]*(?:#[^\n]*)?(?:\r?\n|$))*$/;

async function readConfigDocument(
  file: string,
  options: { skipEmpty: boolean } = { skipEmpty: false },
): Promise<ConfigDocument | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  if (options.skipEmpty && NOTHING_SET.test(text)) return undefined;
  const lines = newLineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = lines.linePos(first.pos[0]);
    throw new ManifestError(
      file,
      pos.line,
      pos.col,
      first.message.split('\n')[0] ?? 'invalid YAML',
    );
  }
  return { doc, lines };
}

/** Yields `section.key`, value and position for every leaf of a two-level mapping. */
function* flatten(
  doc: Document,
  lines: LineCounter,
): Generator<[string, unknown, { line: number; col: number }]> {
  const root = doc.contents;
  if (root === null) return;
  if (!isMap(root)) {
    const pos = lines.linePos(root.range?.[0] ?? 0);
    throw new ManifestError('config', pos.line, pos.col, 'expected a mapping of sections');
  }
  for (const sectionPair of root.items) {
    const section = String(
      (sectionPair.key as { value?: unknown } | null)?.value ?? sectionPair.key,
    );
    const body = sectionPair.value;
    if (!isMap(body)) {
      const node = (sectionPair.key ?? body) as { range?: [number, number, number] } | null;
      const pos = lines.linePos(node?.range?.[0] ?? 0);
      yield [section, undefined, pos];
      continue;
    }
    for (const pair of body.items) {
      const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      const node = pair.value as { range?: [number, number, number]; toJSON(): unknown } | null;
      const pos = lines.linePos(
        node?.range?.[0] ?? (pair.key as { range?: [number] } | null)?.range?.[0] ?? 0,
      );
      yield [`${section}.${key}`, node?.toJSON(), pos];
    }
  }
}

/** Checks and writes one key into one layer's file, keeping its comments and order. */
export async function setConfigValue(
  file: string,
  key: string,
  raw: string | undefined,
): Promise<void> {
  const spec = keySpec(key);
  if (spec === undefined) {
    throw new CairnError('config-unknown-key', `Unknown configuration key '${key}'`, {
      hint: `Known keys: ${knownKeysText()}.`,
    });
  }
  if (raw !== undefined) {
    try {
      spec.parse(raw, path.dirname(file));
    } catch (error) {
      throw new CairnError('config-invalid', `${key}: ${(error as Error).message}`);
    }
  }
  const existing = await readConfigDocument(file);
  const doc = existing?.doc ?? yamlLib().parseDocument('{}');
  const [section = '', name = ''] = key.split('.');
  if (raw === undefined) {
    doc.deleteIn([section, name]);
    const rest = doc.getIn([section]);
    if (isMap(rest) && rest.items.length === 0) {
      // A comment above the first section belongs to the file, not to the section we drop.
      const root = doc.contents;
      const firstKey = isMap(root)
        ? (root.items[0]?.key as { commentBefore?: string | null } | null)
        : null;
      const heading = firstKey?.commentBefore;
      doc.deleteIn([section]);
      const newFirst = isMap(root)
        ? (root.items[0]?.key as { commentBefore?: string | null } | null)
        : null;
      if (heading != null && newFirst != null && newFirst !== firstKey) {
        newFirst.commentBefore = [heading, newFirst.commentBefore]
          .filter((c) => c != null && c !== '')
          .join('\n');
      }
    }
  } else {
    doc.setIn([section, name], typedScalar(key, raw));
  }
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const text =
    doc.contents === null || (isMap(doc.contents) && doc.contents.items.length === 0)
      ? ''
      : doc.toString();
  await writeFileAtomic(file, text);
}

function typedScalar(key: string, raw: string): unknown {
  if (key === 'core.no_scm') return parseBool(raw);
  if (key === 'core.lock_timeout' || key === 'core.checksum_jobs') return Number(raw);
  return raw;
}

export function formatConfigValue(key: string, config: Config): string | undefined {
  const [section = '', name = ''] = key.split('.');
  const value = (config as unknown as Record<string, Record<string, unknown>>)[section]?.[name];
  if (value === undefined) return undefined;
  const spec = keySpec(key);
  if (spec === undefined) throw new Error(`Internal error: no config key ${key}`);
  return spec.format(value);
}
