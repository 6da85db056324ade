/**
 * `.kitignore`: Docker's `.dockerignore` syntax as kit reads it (moby patternmatcher) — patterns
 * anchored at the context root, `*`, `?`, `**`, `!` exceptions, a path ignored when it or any
 * parent matches — plus the names kit always leaves out.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import { KITFILE_NAMES } from './kitfile-parse.js';

interface Pattern {
  regex: RegExp;
  exclusion: boolean;
}

/** OS junk kit skips anywhere in a layer (compared case-insensitively). */
const JUNK = new Set([
  '.ds_store',
  '.appledouble',
  '.lsoverride',
  '.spotlight-v100',
  '.trashes',
  'thumbs.db',
  'desktop.ini',
  '$recycle.bin',
  'ehthumbs.db',
]);

export class KitIgnore {
  readonly #patterns: Pattern[];

  constructor(lines: readonly string[]) {
    this.#patterns = [];
    for (const line of lines) {
      let p = line.trim();
      if (p === '' || p.startsWith('#')) continue;
      let exclusion = false;
      if (p.startsWith('!')) {
        exclusion = true;
        p = p.slice(1).trim();
        if (p === '') continue;
      }
      p = path.posix.normalize(p.replace(/\\/g, '/'));
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
      p = p.replace(/\/+$/, '') || p;
      this.#patterns.push({ regex: compile(p), exclusion });
    }
  }

  static async load(contextDir: string): Promise<KitIgnore> {
    try {
      const text = await fsp.readFile(path.join(contextDir, '.kitignore'), 'utf8');
      return new KitIgnore(text.split(/\r?\n/));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return new KitIgnore([]);
      throw error;
    }
  }

  /** For a context-relative POSIX path: ignored by the patterns (it or a parent matches). */
  matches(rel: string): boolean {
    if (this.#patterns.length === 0) return false;
    const parents: string[] = [];
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
    let matched = false;
    for (const p of this.#patterns) {
      if (p.exclusion !== matched) continue; // only a later pattern of the other kind can flip it
      const hit = p.regex.test(rel) || parents.some((q) => p.regex.test(q));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  /** Whether kit leaves this path out of every layer. */
  ignores(rel: string): boolean {
    if (
      !rel.includes('/') &&
      (rel === '.kitignore' || (KITFILE_NAMES as readonly string[]).includes(rel))
    )
      return true;
    return this.matches(rel);
  }
}

/** True for OS junk files kit skips wherever they are. */
export function isJunk(base: string): boolean {
  return JUNK.has(base.toLowerCase());
}

/** patternmatcher's translation of a pattern into an anchored regular expression. */
function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        if (i + 1 >= pattern.length) {
          re += '.*';
        } else {
          re += '(.*/)?';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      re += escape(pattern[i] ?? '');
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) {
        re += '\\[';
      } else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else {
      re += escape(ch);
    }
  }
  return new RegExp(`${re}$`, 's');
}

function escape(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
