/** `.dvcignore` rules (gitignore syntax), which apply wherever Cairn walks a directory. */
import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { toPosix } from '../core/fs.js';

export const IGNORE_FILE = '.dvcignore';
/** Never part of data: VCS and tool metadata. */
const ALWAYS = new Set(['.git', '.cairn', '.dvc']);

interface Matcher {
  /** POSIX path of the folder holding the ignore file, relative to the repo root ('' = root) */
  base: string;
  rules: Ignore;
}

/** Ignore rules loaded lazily as folders are entered; cheap to rebuild in each worker. */
export class IgnoreRules {
  readonly #repoRoot: string;
  readonly #matchers: Matcher[] = [];
  readonly #loaded = new Set<string>();

  constructor(repoRoot: string) {
    this.#repoRoot = repoRoot;
  }

  /** Loads `.dvcignore` files of `repoRelDir` and every ancestor up to the repo root. */
  enter(repoRelDir: string): void {
    const parts = repoRelDir === '' ? [] : repoRelDir.split('/');
    for (let i = 0; i <= parts.length; i++) this.#load(parts.slice(0, i).join('/'));
  }

  #load(base: string): void {
    if (this.#loaded.has(base)) return;
    this.#loaded.add(base);
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.#repoRoot, base, IGNORE_FILE), 'utf8');
    } catch {
      return;
    }
    this.#matchers.push({ base, rules: ignore().add(text) });
  }

  /** `repoRel` is POSIX and relative to the repo root. */
  ignores(repoRel: string, isDir: boolean, name: string): boolean {
    if (ALWAYS.has(name)) return true;
    for (const m of this.#matchers) {
      if (m.base !== '' && !repoRel.startsWith(`${m.base}/`)) continue;
      const rel = m.base === '' ? repoRel : repoRel.slice(m.base.length + 1);
      if (m.rules.ignores(isDir ? `${rel}/` : rel)) return true;
    }
    return false;
  }

  get empty(): boolean {
    return this.#matchers.length === 0;
  }

  static relTo(repoRoot: string, abs: string): string {
    return toPosix(path.relative(repoRoot, abs));
  }
}
