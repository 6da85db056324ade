/**
 * Unit planning: a tree is cut into units of work (loose files of its top folders, whole
 * subtrees below them) that threads walk independently, and the units' scan fingerprints
 * combine into one fingerprint of the tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileAccessError } from './hash.js';
import { IgnoreRules } from './ignore.js';
import { buildManifest } from './manifest.js';
import type { ScannedUnit } from './scan.js';

/** Folders listed whole and files by name, relative to the tree root. */
export interface Unit {
  dirs: string[];
  files: string[];
}

/**
 * Splits a tree into units of work by expanding its top levels breadth first, until there
 * are enough folders to keep every thread busy. Leaf folders with many files are not read
 * here: listing them is part of a unit's work.
 */
export function planUnits(
  repoRoot: string,
  root: string,
  enough: number,
): { units: Unit[]; expandedAll: boolean; seenFiles: number } {
  const rules = new IgnoreRules(repoRoot);
  const rootRel = IgnoreRules.relTo(repoRoot, root);
  let frontier = [''];
  const units: Unit[] = [];
  let seenFiles = 0;
  for (let depth = 0; depth < 4 && frontier.length > 0 && frontier.length < enough; depth++) {
    const next: string[] = [];
    for (const rel of frontier) {
      const abs = rel === '' ? root : path.join(root, rel);
      const repoRelDir = rootRel === '' ? rel : rel === '' ? rootRel : `${rootRel}/${rel}`;
      rules.enter(repoRelDir);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(abs, { withFileTypes: true });
      } catch (error) {
        throw fileAccessError(abs, error);
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const files: string[] = [];
      for (const e of entries) {
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        let isDir = e.isDirectory();
        if (e.isSymbolicLink()) {
          try {
            isDir = fs.statSync(path.join(abs, e.name)).isDirectory();
          } catch (error) {
            throw fileAccessError(path.join(abs, e.name), error);
          }
        }
        if (rules.ignores(repoRelDir === '' ? e.name : `${repoRelDir}/${e.name}`, isDir, e.name))
          continue;
        if (isDir) next.push(childRel);
        else files.push(childRel);
      }
      seenFiles += files.length;
      if (files.length > 0) units.push({ dirs: [], files });
    }
    frontier = next;
  }
  for (const rel of frontier) units.push({ dirs: [rel], files: [] });
  return { units, expandedAll: frontier.length === 0, seenFiles };
}

export function combineFingerprints(units: Unit[], scanned: ScannedUnit[]): string {
  const parts = units.map(
    (u, i) => `${u.dirs.join('/')}|${u.files.length}|${scanned[i]?.fingerprint ?? ''}`,
  );
  return buildManifest([{ relpath: parts.join('\n'), md5: '0'.repeat(32) }]).md5.slice(0, 32);
}
