/**
 * Remembers which stages were found unchanged, keyed by a fingerprint of everything the verdict
 * rests on: the resolved stage, its dvc.lock entry, the stat of each dep, output and params
 * file, the cache epoch and the options. A no-op repro then costs one stat per path instead of
 * reading the stat index. Stages with a directory dep or output, or a path modified within the
 * last 100 ms (git's "racily clean" rule), are never remembered.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/fs.js';
import { entryDigest, type LockEntry, type LockItem } from './lockfile.js';
import type { Stage } from './stage.js';

const RACY_MS = 100;
const FILE = 'unchanged-stages.json';

export class StatusMemo {
  readonly #file: string;
  readonly #known: Map<string, string>;
  #dirty = false;

  constructor(tmpDir: string) {
    this.#file = path.join(tmpDir, 'parsed', FILE);
    let known: Record<string, string> = {};
    try {
      known = JSON.parse(fs.readFileSync(this.#file, 'utf8')) as Record<string, string>;
    } catch {
      known = {};
    }
    this.#known = new Map(Object.entries(known));
  }

  /** The stage's fingerprint now, or undefined when it may not be remembered. */
  fingerprint(
    stage: Stage,
    lock: LockEntry | undefined,
    extra: string,
    /** whether an output's top-level object is in the cache (a stat: catches manual deletions) */
    cached: (item: LockItem) => boolean,
  ): string | undefined {
    if (lock === undefined || stage.alwaysChanged) return undefined;
    const h = createHash('md5');
    h.update(extra);
    h.update(JSON.stringify([stage.cmd, stage.frozen, stage.wdir]));
    h.update(entryDigest(lock));
    h.update(lock.outs.map((o) => (cached(o) ? '1' : '0')).join(''));
    const now = Date.now();
    const paths = [
      ...stage.deps.map((d) => d.abs),
      ...stage.params.map((p) => `${p.abs}\0${JSON.stringify(p.keys)}`),
      ...stage.outs.map((o) => `${o.abs}\0${String(o.cache)}`),
    ];
    for (const p of paths) {
      const abs = p.split('\0')[0] ?? p;
      const st = fs.statSync(abs, { throwIfNoEntry: false });
      if (st === undefined) h.update(`${p}:-`);
      else {
        if (st.isDirectory() || st.mtimeMs > now - RACY_MS) return undefined;
        h.update(`${p}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}`);
      }
    }
    return h.digest('hex');
  }

  isUnchanged(address: string, fingerprint: string | undefined): boolean {
    return fingerprint !== undefined && this.#known.get(address) === fingerprint;
  }

  set(address: string, fingerprint: string | undefined): void {
    if (fingerprint === undefined) {
      if (this.#known.delete(address)) this.#dirty = true;
      return;
    }
    if (this.#known.get(address) === fingerprint) return;
    this.#known.set(address, fingerprint);
    this.#dirty = true;
  }

  forget(address: string): void {
    if (this.#known.delete(address)) this.#dirty = true;
  }

  save(): void {
    if (!this.#dirty) return;
    try {
      fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      writeFileAtomicSync(this.#file, JSON.stringify(Object.fromEntries(this.#known)));
      this.#dirty = false;
    } catch {
      // only speed is lost
    }
  }
}
