/** `cairn report`: metrics, params, plots, stage status and the packed ModelKit as Markdown. */
import fs from 'node:fs';
import path from 'node:path';
import { git } from '../core/git.js';
import { openRepo } from '../core/repo.js';
import { writeFileAtomic } from '../core/fs.js';
import { cacheLayout } from '../data/cache.js';
import { Workspace } from '../data/workspace.js';
import { diffMetrics, diffParams } from '../metrics/metrics.js';
import { writePlots } from '../metrics/plot-files.js';
import { collectPlots } from '../metrics/plots.js';
import { renderReport, type PackedKit } from '../metrics/report.js';
import { resolveRevision, WORKSPACE } from '../metrics/revision.js';
import { ANNOTATION_DVC_LOCK, ANNOTATION_GIT_COMMIT } from '../modelkit/provenance.js';
import { sha256Of } from '../oci/digest.js';
import { listStored, readManifest } from '../oci/local-repo.js';
import { pipelineStatus } from '../pipeline/status.js';
import type { CommandContext } from './context.js';
import { openStore } from './options.js';

export interface ReportOptions {
  /** default `main` */
  base: string;
  /** default `report.md` */
  out: string;
}

export interface ReportResult {
  file: string;
  images: string[];
  markdown: string;
}

export async function report(ctx: CommandContext, o: ReportOptions): Promise<ReportResult> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  const src = {
    root: repo.root,
    cache: cacheLayout(repo.config.cache.dir, repo.config.cache.shared, false),
  };
  const base = await baseRevision(repo.root, o.base);
  const baseCommit = await resolveRevision(repo.root, base);
  const diff = { a: base, b: WORKSPACE, targets: [] };
  const metrics = await diffMetrics(src, { ...diff, all: true });
  const params = await diffParams(src, { ...diff, all: false });
  const file = path.resolve(ctx.cwd, o.out);
  const reportDir = path.dirname(file);
  const stem = path.basename(file, path.extname(file));
  const plots = await collectPlots({
    ...src,
    revs: [base, WORKSPACE],
    targets: [],
    overrides: {},
  });
  const written =
    plots.length === 0
      ? undefined
      : await writePlots(plots, path.join(reportDir, `${stem}_plots`), {
          html: false,
          svg: false,
          png: true,
        });
  const ws = new Workspace(repo, ctx.sink);
  let status;
  try {
    status = (await pipelineStatus(ws, repo.root, [])).report;
  } finally {
    await ws.close();
  }
  const kit = await packedKit(ctx, repo.root);
  const markdown = renderReport({
    base,
    baseCommit,
    metrics,
    params,
    plots: written,
    reportDir,
    status,
    kit,
  });
  await writeFileAtomic(file, markdown);
  const images = (written?.plots ?? []).flatMap((p) => [
    ...(p.png === undefined ? [] : [p.png]),
    ...p.images.map((i) => i.file),
  ]);
  return { file, images, markdown };
}

/**
 * The base as named, else its remote-tracking branch: a CI checkout often has `origin/main`
 * but no local `main`.
 */
async function baseRevision(root: string, base: string): Promise<string> {
  try {
    await resolveRevision(root, base);
    return base;
  } catch (error) {
    try {
      await resolveRevision(root, `origin/${base}`);
      return `origin/${base}`;
    } catch {
      throw error;
    }
  }
}

/**
 * The ModelKit in the local store packed from this state: the same dvc.lock (pack records its
 * digest), else packed at HEAD. Undefined when none is.
 */
async function packedKit(ctx: CommandContext, root: string): Promise<PackedKit | undefined> {
  const lockDigest = fs.existsSync(path.join(root, 'dvc.lock'))
    ? sha256Of(fs.readFileSync(path.join(root, 'dvc.lock')))
    : undefined;
  let head: string | undefined;
  try {
    head = (await git(root, ['rev-parse', '--verify', '-q', 'HEAD'])).trim();
  } catch {
    head = undefined;
  }
  const store = await openStore(ctx);
  let byCommit: PackedKit | undefined;
  const refsOf = new Map<string, string[]>();
  const stored = await listStored(store);
  for (const kit of stored) {
    const refs = refsOf.get(kit.desc.digest) ?? [];
    refs.push(...kit.tags.map((t) => `${kit.repository}:${t}`));
    refsOf.set(kit.desc.digest, refs);
  }
  for (const kit of stored) {
    let annotations: Record<string, string> | undefined;
    try {
      annotations = (await readManifest(store, kit.desc)).annotations;
    } catch {
      continue; // a damaged store entry is `cairn list`'s to report
    }
    const references = refsOf.get(kit.desc.digest) ?? [];
    if (lockDigest !== undefined && annotations?.[ANNOTATION_DVC_LOCK] === lockDigest)
      return { digest: kit.desc.digest, references, matched: 'dvc.lock' };
    if (head !== undefined && annotations?.[ANNOTATION_GIT_COMMIT] === head)
      byCommit ??= { digest: kit.desc.digest, references, matched: 'commit' };
  }
  return byCommit;
}
