/**
 * Plots written out: one SVG and/or PNG per plot, image plots copied per revision, and one
 * HTML page with every plot inline (SVG, no script), as `dvc plots show` writes `index.html`.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/fs.js';
import type { Plot } from './plots.js';
import { specToSvg, svgToPng } from './render.js';

export interface PlotFormats {
  html: boolean;
  svg: boolean;
  png: boolean;
}

/** What was written for one plot (absolute paths). */
export interface WrittenPlot {
  id: string;
  kind: Plot['kind'];
  revisions: string[];
  svg: string | undefined;
  png: string | undefined;
  /** image plots: the copies, one per revision */
  images: { rev: string; file: string }[];
}

export interface WrittenPlots {
  dir: string;
  html: string | undefined;
  plots: WrittenPlot[];
}

/** A file name from a plot id or path: anything but letters, digits, `.`, `-` becomes `_`. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^[._]+/, '') || 'plot';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function writePlots(
  plots: Plot[],
  dir: string,
  formats: PlotFormats,
): Promise<WrittenPlots> {
  await fsp.mkdir(dir, { recursive: true });
  const written: WrittenPlot[] = [];
  const sections: string[] = [];
  for (const plot of plots) {
    const w: WrittenPlot = {
      id: plot.id,
      kind: plot.kind,
      revisions: plot.revisions,
      svg: undefined,
      png: undefined,
      images: [],
    };
    written.push(w);
    if (plot.kind === 'image') {
      const figures: string[] = [];
      for (const img of plot.images) {
        const file = path.join(dir, `${safeName(img.rev)}_${safeName(img.file)}`);
        await writeFileAtomic(file, img.bytes);
        w.images.push({ rev: img.rev, file });
        figures.push(
          `<figure><img src="${escapeHtml(path.basename(file))}" alt="${escapeHtml(img.file)}"><figcaption>${escapeHtml(img.rev)}</figcaption></figure>`,
        );
      }
      sections.push(`<section><h2>${escapeHtml(plot.id)}</h2>${figures.join('')}</section>`);
      continue;
    }
    const svg = await specToSvg(plot.id, plot.spec);
    const base = path.join(dir, safeName(plot.id));
    if (formats.svg) await writeFileAtomic((w.svg = `${base}.svg`), svg);
    if (formats.png) await writeFileAtomic((w.png = `${base}.png`), await svgToPng(svg));
    sections.push(`<section><h2>${escapeHtml(plot.id)}</h2>${svg}</section>`);
  }
  let html: string | undefined;
  if (formats.html) {
    html = path.join(dir, 'index.html');
    await writeFileAtomic(html, page(sections));
  }
  return { dir, html, plots: written };
}

function page(sections: string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Cairn plots</title>
<style>
body { font-family: sans-serif; margin: 2em; }
section { display: inline-block; vertical-align: top; margin: 0 2em 2em 0; }
h2 { font-size: 1em; }
figure { display: inline-block; margin: 0 1em 1em 0; }
img { max-width: 600px; }
</style>
</head>
<body>
${sections.length === 0 ? '<p>No plots.</p>' : sections.join('\n')}
</body>
</html>
`;
}
