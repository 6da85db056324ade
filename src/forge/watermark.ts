/**
 * The hidden watermark that marks a comment as Cairn's, so `comment update` finds and edits its
 * own earlier comment: an HTML comment (invisible once rendered) holding JSON with the title
 * and the commit, e.g. `<!-- cairn-watermark {"title":"","sha":"0a1b…"} -->`.
 */

const PREFIX = '<!-- cairn-watermark ';
const SUFFIX = ' -->';
const PATTERN = /<!-- cairn-watermark (\{[^\n]*?\}) -->/g;

/** `{workflow}` and `{run}` in a title become the CI's workflow and run ids, as in CML. */
export function watermarkTitle(title: string, ids: { workflow?: string; run?: string }): string {
  return title.replaceAll('{workflow}', ids.workflow ?? '').replaceAll('{run}', ids.run ?? '');
}

/**
 * The watermark line. `-`, `<` and `>` are written as JSON `\u` escapes so no title can end
 * the HTML comment early (`-->`) or open another tag.
 */
export function watermark(title: string, sha: string | undefined): string {
  const json = JSON.stringify({ title, sha: sha ?? '' }).replace(
    /[-<>]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${PREFIX}${json}${SUFFIX}`;
}

/** The body with its watermark after a blank line, as CML places its own. */
export function withWatermark(body: string, title: string, sha: string | undefined): string {
  return `${body.replace(/\s+$/, '')}\n\n${watermark(title, sha)}\n`;
}

/** Whether a comment body carries a watermark with exactly this title (any commit). */
export function hasWatermark(body: string, title: string): boolean {
  for (const match of body.matchAll(PATTERN)) {
    try {
      const parsed = JSON.parse(match[1] ?? '') as unknown;
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        'title' in parsed &&
        parsed.title === title
      )
        return true;
    } catch {
      // Not ours after all (someone typed something alike); keep looking.
    }
  }
  return false;
}
