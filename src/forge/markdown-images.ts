/**
 * Images a Markdown report links as local files (`![alt](plots/roc.png)`, `<img src="…">`, and
 * `data:image/…;base64,` URIs), found outside code blocks and code spans, and the report
 * rewritten with each one's published URL.
 */

/** Where one image link's destination sits in the text. */
export interface ImageLink {
  /** offset of the destination's first character */
  start: number;
  /** offset just past it */
  end: number;
  /** the destination as written (angle brackets removed) */
  destination: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** `![alt](dest "title")`; the destination in `<…>` or bare (balanced parentheses allowed) */
const MARKDOWN_IMAGE =
  /!\[(?:[^[\]\\\n]|\\.)*\]\(\s*(?:<([^>\n]*)>|((?:[^\s()\\]|\\.|\([^\s()]*\))+))/dg;
const HTML_IMAGE = /<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)')/dgi;

/** Offset ranges of the inline code spans in one line (backtick runs of equal length). */
function codeSpans(line: string): [number, number][] {
  const spans: [number, number][] = [];
  const runs = [...line.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i];
    if (open === undefined) continue;
    const closeAt = runs.findIndex((r, j) => j > i && r[0].length === open[0].length);
    if (closeAt === -1) continue;
    const close = runs[closeAt];
    if (close === undefined) continue;
    spans.push([open.index, close.index + close[0].length]);
    i = closeAt;
  }
  return spans;
}

/** Every image destination in the text, in order, skipping fenced code and code spans. */
export function findImages(markdown: string): ImageLink[] {
  const links: ImageLink[] = [];
  let offset = 0;
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const lineStart = offset;
    offset += line.length + 1;
    const marker = FENCE.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length)
        fence = undefined;
      continue;
    }
    if (marker !== undefined) {
      fence = marker;
      continue;
    }
    if (/^( {4}|\t)/.test(line)) continue; // an indented code block (or its continuation)
    const spans = codeSpans(line);
    const inCode = (at: number): boolean => spans.some(([a, b]) => at >= a && at < b);
    for (const pattern of [MARKDOWN_IMAGE, HTML_IMAGE]) {
      for (const match of line.matchAll(pattern)) {
        if (inCode(match.index)) continue;
        const group = match[1] !== undefined ? 1 : 2;
        const range = match.indices?.[group];
        const destination = match[group];
        if (range === undefined || destination === undefined) continue;
        links.push({ start: lineStart + range[0], end: lineStart + range[1], destination });
      }
    }
  }
  return links.sort((a, b) => a.start - b.start);
}

/** A destination that names a file on this machine: no scheme, not `//host`, not `#anchor`. */
export function isLocal(destination: string): boolean {
  return (
    destination !== '' &&
    !/^[a-z][a-z0-9+.-]*:/i.test(destination) &&
    !destination.startsWith('//') &&
    !destination.startsWith('#')
  );
}

/** The text with the given destinations replaced (keys: the destination as found). */
export function rewriteImages(
  markdown: string,
  links: readonly ImageLink[],
  urls: ReadonlyMap<string, string>,
): string {
  let out = '';
  let at = 0;
  for (const link of links) {
    const url = urls.get(link.destination);
    if (url === undefined) continue;
    out += markdown.slice(at, link.start) + url;
    at = link.end;
  }
  return out + markdown.slice(at);
}
