// The naive baseline of the `plots` benchmark: the same three libraries Cairn uses (vega-lite,
// vega, resvg) called directly on the CSV, with no dvc.yaml, revisions or templates — the
// floor a `cairn plots show` of one linear plot to SVG and PNG can reach in one process.
// usage: node bench/plots-baseline.mjs data.csv out-dir
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';

const [csv, out] = process.argv.slice(2);
const [header, ...lines] = fs.readFileSync(csv, 'utf8').trimEnd().split('\n');
const names = header.split(',');
const values = lines.map((l) => {
  const cells = l.split(',');
  return Object.fromEntries(names.map((n, i) => [n, Number(cells[i])]));
});
const spec = {
  data: { values },
  width: 400,
  height: 300,
  mark: 'line',
  encoding: {
    x: { field: names[0], type: 'quantitative' },
    y: { field: names[1], type: 'quantitative' },
  },
};
const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG();
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'loss.svg'), svg);
const png = new Resvg(svg, {
  fitTo: { mode: 'zoom', value: 2 },
  background: 'white',
  font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
}).render();
fs.writeFileSync(path.join(out, 'loss.png'), png.asPng());
