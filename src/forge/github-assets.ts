/**
 * Report images on GitHub, which has no upload API: committed through the git data API to the
 * orphan branch `cairn-assets` of the repository (one file per image, named by its sha256) and
 * linked by raw URLs pinned to the commit, so old comments keep the plots they were written with.
 */
import type { Octokit } from '@octokit/rest';
import type { Asset } from './assets.js';
import type { ForgeContext } from './env.js';
import { forgeError, request } from './errors.js';

/** The branch report images live on; never merged, never checked out. */
export const ASSET_BRANCH = 'cairn-assets';

/** Where an asset lives on the branch: its sha256 and extension, so equal files share one blob. */
function assetPath(asset: Asset): string {
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(asset.name)?.[0].toLowerCase() ?? '';
  return `${asset.sha256}${ext}`;
}

function hasStatus(error: unknown, ...statuses: number[]): boolean {
  return (
    error instanceof Error &&
    'status' in error &&
    typeof error.status === 'number' &&
    statuses.includes(error.status)
  );
}

export class AssetBranch {
  readonly #octokit: Octokit;
  readonly #ctx: ForgeContext;
  readonly #repoArgs: { owner: string; repo: string };

  constructor(octokit: Octokit, ctx: ForgeContext, repoArgs: { owner: string; repo: string }) {
    this.#octokit = octokit;
    this.#ctx = ctx;
    this.#repoArgs = repoArgs;
  }

  /**
   * Commits the assets the branch lacks on top of its tip (or as its first, parentless commit)
   * and moves the branch there; retried when another job moved it meanwhile.
   */
  async publish(assets: readonly Asset[]): Promise<Map<string, string>> {
    if (assets.length === 0) return new Map();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#publishOnce(assets);
      } catch (error) {
        // 422 "Update is not a fast forward": a concurrent job committed first.
        if (attempt < 3 && hasStatus(error, 409, 422)) continue;
        throw forgeError(error, `moving the ${ASSET_BRANCH} branch`, this.#ctx);
      }
    }
  }

  async #publishOnce(assets: readonly Asset[]): Promise<Map<string, string>> {
    const git = this.#octokit.rest.git;
    const ctx = this.#ctx;
    const tip = await this.#branchTip();
    let present = new Set<string>();
    let baseTree: string | undefined;
    if (tip !== undefined) {
      const commit = await request(ctx, `reading the ${ASSET_BRANCH} commit`, () =>
        git.getCommit({ ...this.#repoArgs, commit_sha: tip }),
      );
      baseTree = commit.data.tree.sha;
      const treeSha = baseTree;
      const tree = await request(ctx, `reading the ${ASSET_BRANCH} tree`, () =>
        git.getTree({ ...this.#repoArgs, tree_sha: treeSha }),
      );
      present = new Set(tree.data.tree.map((e) => e.path));
    }
    const missing = assets.filter((a) => !present.has(assetPath(a)));
    let commitSha = tip;
    if (missing.length > 0) {
      const entries: { path: string; mode: '100644'; type: 'blob'; sha: string }[] = [];
      for (const asset of missing) {
        const blob = await request(ctx, `uploading ${asset.name} as a git blob`, () =>
          git.createBlob({
            ...this.#repoArgs,
            content: Buffer.from(asset.bytes).toString('base64'),
            encoding: 'base64',
          }),
        );
        entries.push({
          path: assetPath(asset),
          mode: '100644' as const,
          type: 'blob' as const,
          sha: blob.data.sha,
        });
      }
      const tree = await request(ctx, `writing the ${ASSET_BRANCH} tree`, () =>
        git.createTree({
          ...this.#repoArgs,
          tree: entries,
          ...(baseTree === undefined ? {} : { base_tree: baseTree }),
        }),
      );
      const commit = await request(ctx, `committing to ${ASSET_BRANCH}`, () =>
        git.createCommit({
          ...this.#repoArgs,
          message: `cairn: report images (${missing.map((a) => a.name).join(', ')})`,
          tree: tree.data.sha,
          parents: tip === undefined ? [] : [tip],
        }),
      );
      commitSha = commit.data.sha;
      await this.#moveBranch(tip, commitSha);
    }
    if (commitSha === undefined) throw new Error('Internal error: no asset commit');
    const urls = new Map<string, string>();
    for (const asset of assets)
      urls.set(asset.sha256, `${ctx.serverUrl}/${ctx.repo}/raw/${commitSha}/${assetPath(asset)}`);
    return urls;
  }

  /** The asset branch's commit, or undefined before the first report with images. */
  async #branchTip(): Promise<string | undefined> {
    try {
      const ref = await this.#octokit.rest.git.getRef({
        ...this.#repoArgs,
        ref: `heads/${ASSET_BRANCH}`,
      });
      return ref.data.object.sha;
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw forgeError(error, `reading the ${ASSET_BRANCH} branch`, this.#ctx);
    }
  }

  async #moveBranch(from: string | undefined, to: string): Promise<void> {
    const git = this.#octokit.rest.git;
    const doing = `moving the ${ASSET_BRANCH} branch`;
    try {
      if (from === undefined)
        await git.createRef({ ...this.#repoArgs, ref: `refs/heads/${ASSET_BRANCH}`, sha: to });
      else
        await git.updateRef({
          ...this.#repoArgs,
          ref: `heads/${ASSET_BRANCH}`,
          sha: to,
          force: false,
        });
    } catch (error) {
      if (hasStatus(error, 409, 422)) throw error; // raced: the caller retries from the new tip
      throw forgeError(error, doing, this.#ctx);
    }
  }
}
