/**
 * Just enough SVG and PNG decoding to check drawn plots: SVG parsed into an element tree (tags,
 * attributes, text), PNG chunks read, IDAT inflated and the scanline filters undone.
 */
import zlib from 'node:zlib';

export interface SvgElement {
  name: string;
  attrs: Record<string, string>;
  children: SvgElement[];
  text: string;
}

const TOKEN =
  /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/([\w:-]+)\s*>|<([\w:-]+)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)/g;
const ATTR = /([\w:-]+)\s*=\s*"([^"]*)"/g;

/** Parses SVG markup; throws on a closing tag that does not match, so broken output fails. */
export function parseSvg(markup: string): SvgElement {
  const root: SvgElement = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  for (const m of markup.matchAll(TOKEN)) {
    const top = stack[stack.length - 1] ?? root;
    if (m[1] !== undefined) {
      if (top.name !== m[1]) throw new Error(`</${m[1]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[2] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(ATTR)) attrs[a[1] ?? ''] = a[2] ?? '';
      const el: SvgElement = { name: m[2], attrs, children: [], text: '' };
      top.children.push(el);
      if (m[4] !== '/') stack.push(el);
    } else if (m[5] !== undefined) top.text += m[5];
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]?.name ?? ''}>`);
  const svg = root.children.find((c) => c.name === 'svg');
  if (svg === undefined) throw new Error('no <svg> element');
  return svg;
}

export function descendants(el: SvgElement): SvgElement[] {
  return el.children.flatMap((c) => [c, ...descendants(c)]);
}

/** Elements inside groups whose class lists `cls` (Vega marks: `mark-line`, `role-legend`). */
export function inClass(el: SvgElement, cls: string): SvgElement[] {
  const groups = descendants(el).filter((e) => (e.attrs.class ?? '').split(/\s+/).includes(cls));
  return [...new Set(groups.flatMap(descendants))];
}

export function texts(el: SvgElement): string[] {
  return [el, ...descendants(el)].filter((e) => e.name === 'text').map((e) => e.text.trim());
}

export interface Png {
  width: number;
  height: number;
  /** bytes per pixel (RGBA 8-bit: 4) */
  channels: number;
  /** unfiltered rows, width * channels bytes each */
  pixels: Buffer;
}

export function decodePng(bytes: Buffer): Png {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colour = data[9];
      if (depth !== 8) throw new Error(`bit depth ${String(depth)}`);
      channels = colour === 6 ? 4 : colour === 2 ? 3 : colour === 0 ? 1 : colour === 4 ? 2 : 0;
      if (channels === 0) throw new Error(`colour type ${String(colour)}`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[y * stride + x - channels] ?? 0) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] ?? 0) : 0;
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] ?? 0) : 0;
      const v = line[x] ?? 0;
      let out: number;
      if (filter === 0) out = v;
      else if (filter === 1) out = v + a;
      else if (filter === 2) out = v + b;
      else if (filter === 3) out = v + Math.floor((a + b) / 2);
      else {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      pixels[y * stride + x] = out & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Pixels that are not white (any RGB channel below 250). */
export function inkedPixels(png: Png): number {
  let n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const [r, g, b] = [png.pixels[i] ?? 255, png.pixels[i + 1] ?? 255, png.pixels[i + 2] ?? 255];
    if (png.channels >= 3 && (r < 250 || g < 250 || b < 250)) n++;
  }
  return n;
}

/** The drawn items of a Vega mark type (`line`, `symbol`, `rect`, `text`), legends left out. */
export function marks(el: SvgElement, type: string): SvgElement[] {
  return descendants(el)
    .filter((e) => {
      const cls = (e.attrs.class ?? '').split(/\s+/);
      return cls.includes(`mark-${type}`) && cls.includes('role-mark');
    })
    .flatMap((g) => g.children);
}
