/**
 * `cairn comment create|update`: a Markdown report posted to the pull/merge request of this CI
 * run, its local images published on the forge and relinked, and (update) Cairn's earlier
 * comment edited in place, found by its watermark.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';
import { collectAssets } from './assets.js';
import { describeTarget, type CommentTarget, type ForgeDriver } from './driver.js';
import { forgeName, readForgeContext, type ForgeContext, type ForgeKind } from './env.js';
import { rewriteImages } from './markdown-images.js';
import { resolveTarget, type TargetSpec } from './target.js';
import { hasWatermark, watermarkTitle, withWatermark } from './watermark.js';

export interface PostCommentOptions {
  /** the Markdown file (absolute, or relative to `cwd`) */
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** edit Cairn's earlier comment with the same watermark title instead of adding one */
  update: boolean;
  target: TargetSpec;
  /** tells several updatable comments on one thread apart; `{workflow}`, `{run}` expand */
  watermarkTitle: string;
  driver?: ForgeKind;
  repo?: string;
  signal?: AbortSignal;
  /** told about each image that names no readable file (it is left as written) */
  onMissingImage?: (destination: string) => void;
}

export interface PostedComment {
  forge: ForgeKind;
  action: 'created' | 'updated';
  target: CommentTarget;
  /** "pull request #3", for messages */
  where: string;
  id: number;
  url?: string;
  /** the images published, as written in the report and where they now live */
  images: { destination: string; url: string }[];
  /** image destinations that named no readable file, left as written */
  missing: string[];
}

async function readReport(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'EISDIR')
      throw new CairnError('path-not-found', `${file} does not exist or is not a file`, {
        hint: 'Write the report first, e.g. `cairn report -o report.md`.',
      });
    throw error;
  }
}

async function makeDriver(
  ctx: ForgeContext,
  signal: AbortSignal | undefined,
): Promise<ForgeDriver> {
  if (ctx.kind === 'github') {
    const { GithubDriver } = await import('./github.js');
    return new GithubDriver(ctx, signal);
  }
  const { GitlabDriver } = await import('./gitlab.js');
  return new GitlabDriver(ctx);
}

export async function postComment(o: PostCommentOptions): Promise<PostedComment> {
  const file = path.resolve(o.cwd, o.file);
  const markdown = await readReport(file);
  const ctx = await readForgeContext(o.env, {
    ...(o.driver === undefined ? {} : { driver: o.driver }),
    ...(o.repo === undefined ? {} : { repo: o.repo }),
  });
  const driver = await makeDriver(ctx, o.signal);
  const target = await resolveTarget(o.target, ctx, driver);

  const { links, assets, missing } = await collectAssets(markdown, path.dirname(file));
  for (const destination of missing) o.onMissingImage?.(destination);
  const bySha = await driver.publishAssets(assets);
  const urls = new Map<string, string>();
  const images: PostedComment['images'] = [];
  for (const asset of assets) {
    const url = bySha.get(asset.sha256);
    if (url === undefined) throw new Error(`Internal error: ${asset.name} was not published`);
    for (const destination of asset.destinations) {
      urls.set(destination, url);
      images.push({ destination: destination.startsWith('data:') ? 'data:…' : destination, url });
    }
  }

  const title = watermarkTitle(o.watermarkTitle, ctx);
  const body = withWatermark(rewriteImages(markdown, links, urls), title, ctx.sha);
  if (body.length > driver.maxBody)
    throw new CairnError(
      'comment-too-long',
      `the comment is ${body.length} characters; ${forgeName(ctx.kind)} accepts at most ${driver.maxBody}`,
      { hint: 'Shorten the report (fewer rows or plots), or link to a file instead.' },
    );

  const earlier = o.update
    ? (await driver.listComments(target)).find((c) => hasWatermark(c.body, title))
    : undefined;
  const posted =
    earlier === undefined
      ? await driver.createComment(target, body)
      : await driver.updateComment(target, earlier, body);
  return {
    forge: ctx.kind,
    action: earlier === undefined ? 'created' : 'updated',
    target,
    where:
      ctx.kind === 'gitlab' && target.kind === 'pull'
        ? `merge request !${target.number}`
        : describeTarget(target),
    id: posted.id,
    ...(posted.url === undefined ? {} : { url: posted.url }),
    images,
    missing,
  };
}
