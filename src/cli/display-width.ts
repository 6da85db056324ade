/**
 * How many terminal columns a string takes, and a line cut to fit: progress lines redrawn in
 * place must never wrap, or the lines they leave behind are not erased.
 */

/** Code points drawn two columns wide (East Asian Wide and Fullwidth, emoji). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/** Combining marks and controls; zero-width spaces, joiners and variation selectors below. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cc}]$/u;

/** Columns one code point takes: 0, 1 or 2. */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x7f) return cp < 0x20 ? 0 : 1;
  if ((cp >= 0x200b && cp <= 0x200f) || cp === 0x2060 || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (ZERO_WIDTH.test(ch)) return 0;
  for (const [lo, hi] of WIDE) if (cp >= lo && cp <= hi) return 2;
  return 1;
}

/** Columns `text` takes on a terminal (no escape sequences expected). */
export function displayWidth(text: string): number {
  let n = 0;
  for (const ch of text) n += charWidth(ch);
  return n;
}

/**
 * `line` cut to at most `columns` columns, ending in `…` when cut. A wide character that
 * would straddle the edge is left out rather than split.
 */
export function clipToWidth(line: string, columns: number): string {
  if (displayWidth(line) <= columns) return line;
  if (columns <= 0) return '';
  let out = '';
  let used = 0;
  for (const ch of line) {
    const w = charWidth(ch);
    if (used + w > columns - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}
