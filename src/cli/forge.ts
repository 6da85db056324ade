/** Text renderings of `cairn comment` and `cairn ci init` results. */
import path from 'node:path';
import type { CiInitResult } from '../forge/ci-init.js';
import type { PostedComment } from '../forge/comment.js';

export function formatComment(result: PostedComment): string {
  const verb = result.action === 'updated' ? 'Updated' : 'Created';
  const lines = [`${verb} comment ${result.id} on ${result.where}`];
  if (result.url !== undefined) lines.push(`  ${result.url}`);
  for (const image of result.images) lines.push(`  image ${image.destination} -> ${image.url}`);
  return lines.join('\n');
}

export function formatCiInit(result: CiInitResult, cwd: string): string {
  const shown = path.relative(cwd, result.file) || result.file;
  const then =
    result.forge === 'github'
      ? 'Commit it; pull requests then get a report comment (the workflow uses GITHUB_TOKEN).'
      : 'Commit it, and add a masked CI/CD variable REPO_TOKEN (a project access token with the api scope).';
  return `${result.replaced ? 'Replaced' : 'Wrote'} ${shown}\n${then}`;
}
